"""``palette serve``: the OpenAI-compatible speech server and web demo.

palette serve --data-dir data --port 8000            # then open http://127.0.0.1:8000/
palette serve --host 0.0.0.0 --workers 2 --api-key KEY --cors-origin https://app.example
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os

from palette.codec.files import UserError
from palette.tts.registry import DEFAULT_MODEL

HELP = "serve OpenAI-compatible speech (POST /v1/audio/speech), a voice library and a web demo"
log = logging.getLogger("palette.server")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from palette.tts.server.options import API_KEY_ENV, ServerOptions

    d = ServerOptions()
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model name or directory (default {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--data-dir",
        default=d.data_dir,
        help=f"where voices are stored, shared by all workers (default {d.data_dir})",
    )
    parser.add_argument("--host", default=d.host, help=f"listen address (default {d.host})")
    parser.add_argument("--port", type=int, default=d.port, help=f"port (default {d.port})")
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="worker processes, each with its own model (default 1)",
    )
    parser.add_argument(
        "--api-key",
        help=f"require 'Authorization: Bearer KEY' on /v1 (default ${API_KEY_ENV}, else open)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        dest="cors_origins",
        help="allow this origin (repeatable; '*' for any); CORS is off without it",
    )
    parser.add_argument(
        "--max-input-chars",
        type=int,
        default=d.max_input_chars,
        help=f"longest input text (default {d.max_input_chars})",
    )
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=d.max_upload_bytes,
        help=f"largest voice upload (default {d.max_upload_bytes})",
    )
    parser.add_argument(
        "--max-prompt-seconds",
        type=float,
        default=d.max_prompt_seconds,
        help=f"longest voice prompt (default {d.max_prompt_seconds:g})",
    )
    parser.add_argument(
        "--max-active",
        type=int,
        default=d.max_active,
        help=f"streams generated at once per worker, taking turns (default {d.max_active})",
    )
    parser.add_argument(
        "--queue-size",
        type=int,
        default=d.queue_size,
        help=f"requests that may wait per worker; more get 429 (default {d.queue_size})",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=d.max_wait,
        help=f"seconds a request may wait for its turn; then 503 (default {d.max_wait:g})",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        help="torch threads per worker (default: torch's; use cores // workers)",
    )
    parser.add_argument(
        "--no-web", dest="web", action="store_false", help="do not serve the demo page at /"
    )


def options_from_args(args: argparse.Namespace):
    from palette.tts.server.options import ServerOptions

    fields = {f.name for f in dataclasses.fields(ServerOptions)}
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    values["cors_origins"] = tuple(values.get("cors_origins", ()))
    return ServerOptions(**values).with_env()


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise UserError(
            "palette serve needs the serve extra: pip install 'palette-tts[serve]'"
        ) from None
    from palette.tts.registry import resolve_model
    from palette.tts.server.options import OPTIONS_ENV

    options = options_from_args(args)
    if options.workers < 1:
        raise UserError("--workers must be at least 1")
    resolve_model(options.model)  # a wrong --model is one line and exit 2, before any worker
    log.info(
        "palette serve: model %s, voices in %s, http://%s:%d/ (%d worker%s)%s",
        options.model,
        options.voice_dir,
        options.host,
        options.port,
        options.workers,
        "" if options.workers == 1 else "s",
        ", API key required" if options.api_key else "",
    )
    # every worker process builds its app from the environment, so the options travel there
    os.environ[OPTIONS_ENV] = options.to_json()
    uvicorn.run(
        "palette.tts.server.app:app_from_env",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return 0
