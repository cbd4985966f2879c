"""What synthesis produces and reuses: ``Audio`` (samples + rate) and ``Voice`` (a prompt encoded
once: its codec frames and phonemes), savable to a small safetensors file.

A voice file is safetensors with up to two frame tensors, the parameters of a prompt
adaptation when it was adapted (``--adapt``), and one metadata entry::

    codes         [Q, T] int64    (1 <= Q <= 64 codebooks, 0 <= code < 2**20)
    latents       [D, T] float32  (1 <= D <= 1024, finite, |x| <= 1000)
    adapt.<stage>.<parameter>  float32, finite, |x| <= 1000 (at most 64 tensors, 2**16 values)
    metadata {"palette_voice": '{"codec": str, "text": str, "phonemes": str
                                 [, "adapted_for": SHA-256 of the adapted stage's weights]}'}

``Voice.load`` checks all of it (see ``VoiceLimits``) and raises ``VoiceFileError`` naming the
file and the field; nothing in a voice file is executed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from palette.codec.files import UserError, UserFileNotFoundError, atomic_path
from palette.tts.audio_output import save_audio


class VoiceFileError(UserError):
    """A voice file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class VoiceLimits:
    """What a voice file may hold. 30 s at 75 frames/s (EnCodec's rate, the highest of the
    codecs palette-tts wraps) bounds the frames; prompts are cut at 20 s anyway."""

    max_frames: int = 2250  # T: 30 s at 75 Hz
    max_codebooks: int = 64  # Q
    max_code: int = 2**20  # codes lie in [0, max_code)
    max_latent_dim: int = 1024  # D
    max_abs_latent: float = 1000.0  # posterior means are O(1); larger is a damaged file
    max_text_chars: int = 5000  # transcript and phonemes
    max_file_bytes: int = 64 * 2**20  # checked before anything is read
    max_speaker_dim: int = 4096  # E of a speaker embedding
    max_adapted_tensors: int = 64
    max_adapted_values: int = 2**16


TENSOR_KEYS = ("codes", "latents")
SPEAKER_KEY = "speaker"  # [E] embedding of the prompt by the pretrained speaker encoder
ADAPT_PREFIX = "adapt."  # + "<stage>.<parameter name>"
META_KEY = "palette_voice"
META_FIELDS = ("codec", "text", "phonemes")
OPTIONAL_META = ("adapted_for",)


@dataclass
class Audio:
    samples: np.ndarray  # [S] float32 in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def save(self, path: str | os.PathLike) -> Path:
        """Write the audio atomically in the format of the extension (wav: 16-bit PCM); ``-``
        writes wav to stdout."""
        return save_audio(path, self.samples, self.sample_rate)


@dataclass
class Voice:
    """A voice prompt, encoded: codes ``[Q, T]`` and/or latents ``[D, T]`` of the codec it was
    encoded with, its transcript and the transcript's phonemes (one token per character)."""

    codec: str  # codec name/dir the frames belong to
    text: str
    phonemes: str
    codes: torch.Tensor | None = None  # [Q, T] int64
    latents: torch.Tensor | None = None  # [D, T] posterior mean
    speaker: torch.Tensor | None = None  # [E] speaker embedding (speaker-conditioned models)
    # prompt adaptation (models.adapt): "<stage>.<parameter>" -> tensor, and the SHA-256 of
    # the weights of the stage they were trained against
    adaptation: dict[str, torch.Tensor] | None = None
    adapted_for: str | None = None
    adapt_log: object = field(default=None, repr=False, compare=False)  # models.adapt.AdaptLog

    @property
    def frames(self) -> int:
        x = self.codes if self.codes is not None else self.latents
        return int(x.shape[-1])

    def save(self, path: str | os.PathLike) -> Path:
        """Write the voice file atomically (a unique temporary name, then a rename)."""
        from safetensors.torch import save_file

        path = Path(path)
        tensors = {
            k: v.contiguous()
            for k, v in (("codes", self.codes), ("latents", self.latents))
            if v is not None
        }
        if self.speaker is not None:
            tensors[SPEAKER_KEY] = self.speaker.to(torch.float32).contiguous()
        meta = {"codec": self.codec, "text": self.text, "phonemes": self.phonemes}
        if self.adaptation:
            tensors |= {ADAPT_PREFIX + k: v.contiguous() for k, v in self.adaptation.items()}
            meta["adapted_for"] = self.adapted_for or ""
        try:
            with atomic_path(path) as tmp:
                save_file(
                    tensors, str(tmp), metadata={META_KEY: json.dumps(meta, ensure_ascii=False)}
                )
        except OSError as err:
            raise UserError(f"cannot write voice file {path}: {err.strerror or err}") from None
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, limits: VoiceLimits = VoiceLimits()) -> Voice:
        """Read and check a voice file; raises ``VoiceFileError`` (or ``UserFileNotFoundError``)
        naming the file and the field at fault."""
        path = Path(path)
        meta, tensors = _read_voice_file(path, limits)
        fields = _check_meta(path, meta, limits)
        adaptation = _check_adaptation(path, tensors, fields.get("adapted_for"), limits)
        speaker = _check_speaker(path, tensors.pop(SPEAKER_KEY, None), limits)
        checked = _check_tensors(path, tensors, limits)
        return cls(**fields, **checked, speaker=speaker, adaptation=adaptation)

    def check_codec(self, codec) -> None:
        """Raise ``UserError`` unless the frames fit ``codec`` (a ``palette.codec.Codec``):
        codebook count and code range, latent size."""
        if self.codes is not None and codec.has_codes:
            if self.codes.shape[0] != codec.num_codebooks:
                raise UserError(
                    f"the voice has {self.codes.shape[0]} codebooks, the codec "
                    f"{self.codec!r} has {codec.num_codebooks}"
                )
            if int(self.codes.max()) >= codec.cardinality:
                raise UserError(
                    f"the voice has code {int(self.codes.max())}, the codec "
                    f"{self.codec!r} has only {codec.cardinality} entries"
                )
        if self.latents is not None and codec.has_latents:
            if self.latents.shape[0] != codec.latent_dim:
                raise UserError(
                    f"the voice has {self.latents.shape[0]}-dim latents, the codec "
                    f"{self.codec!r} has {codec.latent_dim}"
                )


def _read_voice_file(path: Path, limits: VoiceLimits) -> tuple[object, dict[str, torch.Tensor]]:
    """The raw metadata entry and tensors of a safetensors file, or a one-line error."""
    from safetensors import safe_open

    if not path.is_file():
        raise UserFileNotFoundError(f"voice file not found: {path}")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise VoiceFileError(
            f"{path}: {size} bytes is too large for a voice file (at most {limits.max_file_bytes})"
        )
    try:
        with safe_open(str(path), "pt") as fh:
            meta = (fh.metadata() or {}).get(META_KEY)
            keys = list(fh.keys())
            unknown = sorted(set(keys) - set(TENSOR_KEYS) - {SPEAKER_KEY})
            unknown = [k for k in unknown if not k.startswith(ADAPT_PREFIX)]
            if unknown:
                raise VoiceFileError(
                    f"{path}: unknown tensor {unknown[0]!r} in a voice file "
                    f"(expected {' and/or '.join(TENSOR_KEYS)}, {SPEAKER_KEY}, {ADAPT_PREFIX}*)"
                )
            tensors = {k: fh.get_tensor(k) for k in keys}
    except VoiceFileError:
        raise
    except Exception as err:  # safetensors raises its own error types (and OSError, TypeError)
        detail = " ".join(str(err).split())[:200]
        raise VoiceFileError(
            f"{path} is not a palette voice file (corrupt or truncated safetensors: {detail})"
        ) from None
    if meta is None:
        raise VoiceFileError(f"{path}: no {META_KEY!r} metadata; not a palette voice file")
    return meta, tensors


def _check_meta(path: Path, raw: object, limits: VoiceLimits) -> dict[str, str]:
    """The metadata JSON -> ``{"codec", "text", "phonemes"}``, each a bounded string."""
    try:
        meta = json.loads(raw)
    except (TypeError, ValueError):
        raise VoiceFileError(f"{path}: metadata {META_KEY!r} is not valid JSON") from None
    if not isinstance(meta, dict):
        raise VoiceFileError(
            f"{path}: metadata {META_KEY!r} must be a JSON object, not {type(meta).__name__}"
        )
    missing = [k for k in META_FIELDS if k not in meta]
    extra = sorted(set(meta) - set(META_FIELDS) - set(OPTIONAL_META))
    if missing or extra:
        what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"
        raise VoiceFileError(
            f"{path}: metadata field(s) {what} (expected {', '.join(META_FIELDS)})"
        )
    for key in (k for k in META_FIELDS + OPTIONAL_META if k in meta):
        value = meta[key]
        if not isinstance(value, str):
            raise VoiceFileError(
                f"{path}: field {key!r} must be a string, not {type(value).__name__}"
            )
        if len(value) > limits.max_text_chars:
            raise VoiceFileError(
                f"{path}: field {key!r} has {len(value)} characters "
                f"(at most {limits.max_text_chars})"
            )
        if "\x00" in value:
            raise VoiceFileError(f"{path}: field {key!r} contains a NUL character")
    if not meta["codec"].strip():
        raise VoiceFileError(f"{path}: field 'codec' is empty")
    return meta


def _check_adaptation(
    path: Path, tensors: dict[str, torch.Tensor], adapted_for: str | None, limits: VoiceLimits
) -> dict[str, torch.Tensor] | None:
    """Take the ``adapt.*`` tensors out of ``tensors`` and check them -> name -> float32
    tensor, or ``None`` when the voice was not adapted."""
    names = [k for k in tensors if k.startswith(ADAPT_PREFIX)]
    if not names:
        if adapted_for is not None:
            raise VoiceFileError(f"{path}: field 'adapted_for' without adapt.* tensors")
        return None
    if not adapted_for:
        raise VoiceFileError(f"{path}: adapt.* tensors without the field 'adapted_for'")
    if len(names) > limits.max_adapted_tensors:
        raise VoiceFileError(
            f"{path}: {len(names)} adapt.* tensors (at most {limits.max_adapted_tensors})"
        )
    out = {key[len(ADAPT_PREFIX) :]: _float_field(path, key, tensors.pop(key)) for key in names}
    total = sum(x.numel() for x in out.values())
    if total > limits.max_adapted_values:
        raise VoiceFileError(
            f"{path}: adapt.* tensors hold {total} values (at most {limits.max_adapted_values})"
        )
    return out


def _float_field(path: Path, key: str, x: torch.Tensor) -> torch.Tensor:
    """A tensor of floats, finite and of magnitude at most 1000 -> contiguous float32."""
    if not x.dtype.is_floating_point:
        raise VoiceFileError(f"{path}: field {key!r} must hold floats, not {x.dtype}")
    x = x.to(torch.float32)
    if not bool(torch.isfinite(x).all()) or (x.numel() and float(x.abs().max()) > 1000.0):
        raise VoiceFileError(f"{path}: field {key!r} has NaN, infinite or huge values")
    return x.contiguous()


def _check_speaker(path: Path, x: torch.Tensor | None, limits: VoiceLimits):
    """The ``speaker`` tensor -> float32 ``[E]`` of finite values, or None when absent."""
    if x is None:
        return None
    if x.ndim != 1 or not 1 <= x.shape[0] <= limits.max_speaker_dim:
        raise VoiceFileError(
            f"{path}: field 'speaker' must be 1-D [E] with E at most {limits.max_speaker_dim}, "
            f"not shape {list(x.shape)}"
        )
    return _float_field(path, SPEAKER_KEY, x)


def _check_tensors(path: Path, tensors: dict[str, torch.Tensor], limits: VoiceLimits) -> dict:
    """Check dtypes, shapes, values and frame counts -> ``{"codes": ..., "latents": ...}``."""
    if not tensors:
        raise VoiceFileError(f"{path}: a voice file needs 'codes' or 'latents'; it has neither")
    out = {"codes": None, "latents": None}
    if "codes" in tensors:
        out["codes"] = _check_codes(path, tensors["codes"], limits)
    if "latents" in tensors:
        out["latents"] = _check_latents(path, tensors["latents"], limits)
    lengths = {k: int(v.shape[-1]) for k, v in out.items() if v is not None}
    if len(set(lengths.values())) > 1:
        raise VoiceFileError(
            f"{path}: 'codes' has {lengths['codes']} frames but 'latents' has {lengths['latents']}"
        )
    return out


def _check_shape(
    path: Path, name: str, x: torch.Tensor, rows: str, max_rows: int, limits: VoiceLimits
) -> None:
    if x.ndim != 2:
        raise VoiceFileError(
            f"{path}: field {name!r} must be 2-D [{rows}, T], not shape {list(x.shape)}"
        )
    if not 1 <= x.shape[0] <= max_rows:
        raise VoiceFileError(
            f"{path}: field {name!r} has {x.shape[0]} rows ({rows}); allowed 1 to {max_rows}"
        )
    if not 1 <= x.shape[1] <= limits.max_frames:
        raise VoiceFileError(
            f"{path}: field {name!r} has {x.shape[1]} frames; allowed 1 to "
            f"{limits.max_frames} (30 s of prompt)"
        )


def _check_codes(path: Path, codes: torch.Tensor, limits: VoiceLimits) -> torch.Tensor:
    if codes.dtype.is_floating_point or codes.dtype.is_complex or codes.dtype == torch.bool:
        raise VoiceFileError(f"{path}: field 'codes' must hold integers, not {codes.dtype}")
    _check_shape(path, "codes", codes, "Q", limits.max_codebooks, limits)
    codes = codes.to(torch.int64)
    low, high = int(codes.min()), int(codes.max())
    if low < 0 or high >= limits.max_code:
        raise VoiceFileError(
            f"{path}: field 'codes' has values from {low} to {high}; "
            f"allowed 0 to {limits.max_code - 1}"
        )
    return codes.contiguous()


def _check_latents(path: Path, latents: torch.Tensor, limits: VoiceLimits) -> torch.Tensor:
    if not latents.dtype.is_floating_point:
        raise VoiceFileError(f"{path}: field 'latents' must hold floats, not {latents.dtype}")
    _check_shape(path, "latents", latents, "D", limits.max_latent_dim, limits)
    latents = latents.to(torch.float32)
    if not bool(torch.isfinite(latents).all()):
        raise VoiceFileError(f"{path}: field 'latents' contains NaN or infinite values")
    top = float(latents.abs().max())
    if top > limits.max_abs_latent:
        raise VoiceFileError(
            f"{path}: field 'latents' has a value of magnitude {top:.3g}; "
            f"allowed at most {limits.max_abs_latent:g}"
        )
    return latents.contiguous()
