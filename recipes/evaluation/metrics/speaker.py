"""Speaker embeddings, similarity and speaker identification.

A speaker embedder is anything with a ``name``, a ``sample_rate`` and ``embed(wav [S]) -> [D]``
returning an L2-normalised vector (:class:`SpeakerEmbedder`). Two ship here:

- ``resemblyzer`` (default): the GE2E d-vector encoder whose weights ship in the package.
- a transformers x-vector checkpoint folder (``AutoModelForAudioXVector``: WavLM, UniSpeech-SAT,
  wav2vec 2.0), e.g. a local copy of ``microsoft/wavlm-base-plus-sv``, the WavLM-based
  verification model that zero-shot TTS papers report similarity with.

Anything else plugs in as ``"package.module:factory"``: the factory is called with no arguments
and returns a ``SpeakerEmbedder``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from palette.codec.files import UserError
from palette.recipes.evaluation.metrics.deps import import_resemblyzer, require


@runtime_checkable
class SpeakerEmbedder(Protocol):
    """Maps a mono waveform ``[S]`` at ``sample_rate`` to a unit-length embedding ``[D]``."""

    name: str
    sample_rate: int

    def embed(self, wav: np.ndarray) -> np.ndarray: ...


def unit(x: np.ndarray) -> np.ndarray:
    """``x / |x|`` along the last axis (zero vectors stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings ``[D]``."""
    return float(np.dot(unit(a), unit(b)))


class ResemblyzerEmbedder:
    """resemblyzer's ``VoiceEncoder`` (256-d); its preprocessing normalises the volume and
    shortens long silences (webrtcvad) before embedding."""

    name = "resemblyzer"
    sample_rate = 16000

    def __init__(self, device: str = "cpu") -> None:
        self._resemblyzer = import_resemblyzer()
        self.encoder = self._resemblyzer.VoiceEncoder(device, verbose=False)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """``[S]`` at 16 kHz -> ``[256]``."""
        wav = np.asarray(wav, dtype=np.float32)
        trimmed = self._resemblyzer.preprocess_wav(wav)  # already 16 kHz: no resampling
        if len(trimmed) < self.sample_rate // 10:  # the VAD found (almost) no voice: use all
            trimmed = wav
        return unit(self.encoder.embed_utterance(trimmed)).astype(np.float32)


class XVectorEmbedder:
    """A transformers ``AutoModelForAudioXVector`` checkpoint from a local folder."""

    sample_rate = 16000

    def __init__(self, model_dir: str | os.PathLike, device: str = "cpu") -> None:
        transformers = require("transformers", "transformers", "x-vector speaker similarity")
        self.name = f"xvector:{Path(model_dir).name}"
        self.extractor = transformers.AutoFeatureExtractor.from_pretrained(str(model_dir))
        self.sample_rate = int(getattr(self.extractor, "sampling_rate", 16000))
        model = transformers.AutoModelForAudioXVector.from_pretrained(str(model_dir))
        self.model = model.to(device).eval()
        self.device = device

    def embed(self, wav: np.ndarray) -> np.ndarray:
        import torch

        inputs = self.extractor(
            np.asarray(wav, dtype=np.float32), return_tensors="pt", sampling_rate=self.sample_rate
        )
        with torch.inference_mode():
            out = self.model(**{k: v.to(self.device) for k, v in inputs.items()})
        return unit(out.embeddings[0].float().cpu().numpy()).astype(np.float32)


def load_speaker_embedder(spec: str = "resemblyzer", device: str = "cpu") -> SpeakerEmbedder:
    """``"resemblyzer"``, an x-vector checkpoint folder, or ``"module:factory"`` -> embedder."""
    if spec == "resemblyzer":
        return ResemblyzerEmbedder(device)
    if Path(spec).is_dir():
        return XVectorEmbedder(spec, device)
    if ":" in spec and not Path(spec).exists():
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise UserError(f"cannot load speaker embedder {spec!r}: {err}") from None
        embedder = factory()
        if not isinstance(embedder, SpeakerEmbedder):
            raise UserError(f"{spec} did not return a speaker embedder (name, sample_rate, embed)")
        return embedder
    raise UserError(
        f"unknown speaker model {spec!r}: use 'resemblyzer', a transformers x-vector "
        "checkpoint folder, or 'package.module:factory'"
    )


def enroll_speakers(embeddings: Mapping[str, Iterable[np.ndarray]]) -> dict[str, np.ndarray]:
    """speaker -> its enrolment embeddings ``[D]`` -> speaker -> unit mean embedding ``[D]``."""
    enrolled = {}
    for speaker, embs in embeddings.items():
        stack = np.stack([unit(e) for e in embs])
        enrolled[speaker] = unit(stack.mean(axis=0))
    return enrolled


def identify_speakers(embeddings: np.ndarray, enrolled: Mapping[str, np.ndarray]) -> list[str]:
    """``[N, D]`` test embeddings -> the nearest enrolled speaker (cosine) of each."""
    names = sorted(enrolled)
    centroids = np.stack([enrolled[n] for n in names])  # [K, D]
    scores = unit(np.atleast_2d(embeddings)) @ centroids.T  # [N, K]
    return [names[k] for k in scores.argmax(axis=1)]


def speaker_id_accuracy(predicted: Iterable[str], true: Iterable[str]) -> float | None:
    """Fraction of predictions equal to the true speaker (None for no items)."""
    pairs = list(zip(predicted, true, strict=True))
    return sum(p == t for p, t in pairs) / len(pairs) if pairs else None
