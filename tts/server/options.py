"""``ServerOptions``: every setting of ``palette serve``, in one frozen dataclass."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from palette.tts.registry import DEFAULT_MODEL

API_KEY_ENV = "PALETTE_API_KEY"  # read when --api-key is not given
OPTIONS_ENV = "PALETTE_SERVER_OPTIONS"  # how `--workers N` hands the options to each worker


@dataclass(frozen=True)
class ServerOptions:
    model: str = DEFAULT_MODEL  # model name or directory, loaded once per worker process
    data_dir: str = "palette-data"  # voices live in DATA_DIR/voices (shared by all workers)
    host: str = "127.0.0.1"  # listen address (0.0.0.0 to serve other machines)
    port: int = 8000
    workers: int = 1  # worker processes (uvicorn); each loads the model and shares the voices
    api_key: str | None = None  # require "Authorization: Bearer KEY" on /v1 (None = open)
    cors_origins: tuple[str, ...] = ()  # origins allowed by CORS; empty = CORS off
    max_input_chars: int = 4096  # longest `input` accepted (OpenAI's own limit)
    max_upload_bytes: int = 10 * 1024 * 1024  # largest voice prompt upload
    max_prompt_seconds: float = 30.0  # longest voice prompt accepted (the model uses <= 20 s)
    max_active: int = 2  # streams generated at once (they take turns, one chunk each)
    queue_size: int = 8  # requests that may wait for a turn; beyond this: 429
    max_wait: float = 30.0  # seconds a request may wait for its first chunk; beyond this: 503
    retry_after: int = 2  # seconds suggested in Retry-After on 429/503
    torch_threads: int | None = None  # torch threads per worker (None = torch's default);
    # with N workers on C cores, C // N avoids oversubscription
    web: bool = True  # serve the demo page at /

    @property
    def voice_dir(self) -> Path:
        return Path(self.data_dir) / "voices"

    def with_env(self) -> ServerOptions:
        """These options with the API key taken from $PALETTE_API_KEY when none was given."""
        if self.api_key is None and os.environ.get(API_KEY_ENV):
            return dataclasses.replace(self, api_key=os.environ[API_KEY_ENV])
        return self

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerOptions:
        data = json.loads(text)
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)
