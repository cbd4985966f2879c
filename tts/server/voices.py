"""``VoiceStore``: the voice library on disk, shared by every worker and replica.

    DATA_DIR/voices/<id>.safetensors   the encoded prompt (``palette.tts.Voice``)
    DATA_DIR/voices/<id>.json          {"id", "name", "transcript", "seconds", "created"}

Both files are written to a temporary name and renamed; the ``.json`` is written last and
removed first, so a voice is listed only when both are complete. Ids are generated here
(``<slug of the name>-<12 hex>``) and every id from a request must match ``ID_PATTERN``, so no
id can name a path outside the directory.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from palette.codec.files import atomic_write, write_text_atomic

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    transcript: str
    seconds: float  # prompt length as uploaded
    created: int  # unix time

    def to_json(self) -> dict:
        return {"object": "voice", **asdict(self)}


class VoiceNotFound(KeyError):
    pass


class VoiceStore:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _paths(self, voice_id: str) -> tuple[Path, Path]:
        if not isinstance(voice_id, str) or not ID_PATTERN.fullmatch(voice_id):
            raise VoiceNotFound(f"no voice {voice_id!r}: ids are 1-64 of a-z 0-9 _ -")
        return self.directory / f"{voice_id}.safetensors", self.directory / f"{voice_id}.json"

    def new_id(self, name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "voice"
        return f"{slug}-{secrets.token_hex(6)}"

    def add(self, voice, name: str, seconds: float) -> VoiceInfo:
        """Store an encoded ``Voice`` under a new id; -> its info."""
        info = VoiceInfo(self.new_id(name), name, voice.text, round(seconds, 3), int(time.time()))
        tensors, meta = self._paths(info.id)
        atomic_write(tensors, voice.save)
        write_text_atomic(meta, json.dumps(asdict(info), ensure_ascii=False))
        return info

    def info(self, voice_id: str) -> VoiceInfo:
        tensors, meta = self._paths(voice_id)
        try:
            return VoiceInfo(**json.loads(meta.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise VoiceNotFound(f"no voice {voice_id!r}") from None

    def load(self, voice_id: str):
        """-> the ``Voice`` stored under ``voice_id``."""
        from palette.tts.voice import Voice

        self.info(voice_id)
        tensors, _ = self._paths(voice_id)
        try:
            return Voice.load(tensors)
        except FileNotFoundError:  # deleted by another worker between the two reads
            raise VoiceNotFound(f"no voice {voice_id!r}") from None

    def list(self) -> list[VoiceInfo]:
        """Every complete voice, oldest first."""
        out = []
        for meta in self.directory.glob("*.json"):
            with contextlib.suppress(VoiceNotFound, ValueError, TypeError):
                out.append(self.info(meta.stem))
        return sorted(out, key=lambda v: (v.created, v.id))

    def delete(self, voice_id: str) -> None:
        tensors, meta = self._paths(voice_id)
        try:
            meta.unlink()
        except FileNotFoundError:
            raise VoiceNotFound(f"no voice {voice_id!r}") from None
        tensors.unlink(missing_ok=True)
