"""``palette serve``: an OpenAI-compatible speech server with a voice library and a web demo.

    from palette.tts.server import ServerOptions, create_app
    app = create_app(ServerOptions(model="palette-mini-en", data_dir="data"))

Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart).
"""

from palette.tts.server.app import create_app
from palette.tts.server.options import ServerOptions

__all__ = ["ServerOptions", "create_app"]
