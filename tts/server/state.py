"""What one server process holds: its options, the model, the voice store and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from palette.tts.server.options import ServerOptions
from palette.tts.server.scheduler import Scheduler
from palette.tts.server.voices import VoiceStore

OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")  # accepted as names of the loaded model


@dataclass
class ServerState:
    options: ServerOptions
    synth: object  # palette.tts.Synthesizer
    voices: VoiceStore
    scheduler: Scheduler

    @property
    def model_id(self) -> str:
        return Path(str(self.options.model)).name

    def accepts_model(self, name: str) -> bool:
        return name in (self.model_id, str(self.options.model), "palette", *OPENAI_MODELS)
