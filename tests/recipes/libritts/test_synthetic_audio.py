"""Synthetic speech-like audio and the tiny corpus made from it (fixtures of the codec tests)."""

import numpy as np
import soundfile as sf

from palette.recipes.corpus.synthetic_audio import synthetic_speech, write_synthetic_corpus


def test_synthetic_speech_is_seeded_and_speech_like():
    a, b = synthetic_speech(2.0, seed=1), synthetic_speech(2.0, seed=1)
    assert a.shape == (48000,) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, synthetic_speech(2.0, seed=2))
    assert np.abs(a).max() == np.float32(0.5)
    # a low pitch puts energy in the low harmonics: most energy below 4 kHz
    low = synthetic_speech(2.0, seed=3, f0=100.0)
    power = np.abs(np.fft.rfft(low)) ** 2
    freqs = np.fft.rfftfreq(len(low), 1 / 24000)
    assert power[freqs < 4000].sum() > 0.5 * power.sum()


def test_corpus_has_libritts_layout(tmp_path):
    paths = write_synthetic_corpus(tmp_path, speakers=2, utterances=2, seconds=0.5, seed=0)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert names[0] == "100/1000/100_1000_000000_000000.wav" and len(names) == 4
    info = sf.info(paths[0])
    assert info.samplerate == 24000 and info.frames == 12000 and info.subtype == "PCM_16"
