"""``create_app(options)``: the FastAPI application of ``palette serve``.

Routes: ``/v1/audio/speech`` (speech.py), ``/v1/voices`` (library.py), ``/v1/models``,
``/health``, and the web demo at ``/`` (static/). The model is loaded once, when the process
starts (lifespan); every model call runs on the scheduler's single thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from palette.tts.server import library, speech
from palette.tts.server.errors import install_error_handlers
from palette.tts.server.middleware import RequestMiddleware
from palette.tts.server.options import OPTIONS_ENV, ServerOptions
from palette.tts.server.scheduler import Scheduler
from palette.tts.server.state import ServerState
from palette.tts.server.voices import VoiceStore

STATIC = Path(__file__).parent / "static"


def create_app(options: ServerOptions | None = None, synth=None) -> FastAPI:
    """The application; ``synth`` (a loaded ``Synthesizer``) skips loading ``options.model``."""
    options = (options or ServerOptions()).with_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        from palette.tts.synthesizer import Synthesizer

        if options.torch_threads:
            import torch

            torch.set_num_threads(options.torch_threads)
        model = synth or await asyncio.to_thread(Synthesizer.from_pretrained, options.model)
        scheduler = Scheduler(options.max_active, options.queue_size)
        app.state.palette = ServerState(options, model, VoiceStore(options.voice_dir), scheduler)
        try:
            yield
        finally:
            scheduler.close()

    app = FastAPI(title="palette-tts", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    install_error_handlers(app)
    app.include_router(speech.router)
    app.include_router(library.router)

    @app.get("/v1/models")
    async def models(request: Request):
        state: ServerState = request.app.state.palette
        card = {
            "id": state.model_id,
            "object": "model",
            "created": 0,
            "owned_by": "palette-tts",
            "sample_rate": state.synth.sample_rate,
            "families": list(getattr(state.synth, "families", [])),
        }
        return {"object": "list", "data": [card]}

    @app.get("/health")
    async def health(request: Request):
        state: ServerState = request.app.state.palette
        return {
            "status": "ok",
            "model": state.model_id,
            "pid": os.getpid(),
            "in_progress": state.scheduler.load - state.scheduler.waiting,
            "waiting": state.scheduler.waiting,
            "queue_size": options.queue_size,
        }

    if options.web:
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        async def index():
            return FileResponse(STATIC / "index.html")

    # the last added is the outermost: CORS answers preflights and marks even 401s
    app.add_middleware(
        RequestMiddleware, api_key=options.api_key, max_upload_bytes=options.max_upload_bytes
    )
    if options.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Sample-Rate", "X-Request-ID"],
        )
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (``--workers N``): options from $PALETTE_SERVER_OPTIONS.
    A worker process starts without the parent's logging set up, so it sets up its own."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format=f"%(levelname)s %(name)s [{os.getpid()}]: %(message)s",
        )
    return create_app(ServerOptions.from_json(os.environ.get(OPTIONS_ENV, "{}")))
