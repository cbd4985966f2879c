"""Takes checked for content: word-level scoring finds skipped and repeated words, and the
sentence loop redoes a failing take with another seed, keeping the best."""

import numpy as np
import pytest

from palette.tts.options import SynthesisOptions
from palette.tts.verify import TakeScore, score_take, words


def test_words_are_normalised_for_comparison():
    assert words("Hello, World! It's  well-fed.") == ["hello", "world", "its", "well", "fed"]


@pytest.mark.parametrize(
    "heard,expected",
    [
        ("the cat sat on the mat", (0, 0, 0, 0)),
        ("the cat on the mat", (0, 1, 0, 0)),  # a skipped word
        ("the cat sat sat on the mat", (0, 0, 1, 1)),  # a repeated word
        ("the dog sat on the mat", (1, 0, 0, 0)),
        ("", (0, 6, 0, 0)),
    ],
)
def test_score_take_counts_each_kind_of_error(heard, expected):
    score = score_take(words("the cat sat on the mat"), words(heard))
    assert (score.substituted, score.skipped, score.inserted, score.repeated) == expected
    assert score.wer == pytest.approx(sum(expected[:3]) / 6)
    assert score.acceptable(0.1) == (expected == (0, 0, 0, 0))
    assert score.acceptable(0.2) == (expected[1:] == (0, 0, 0))  # one substitution in 6


class Scripted:
    """A checker that fails the first takes of a sentence, then passes."""

    def __init__(self, failures):
        self.failures, self.calls, self.log = dict(failures), [], []

    def __call__(self, audio, sr, text):
        self.calls.append((text, audio.copy()))
        left = self.failures.get(text, 0)
        self.failures[text] = left - 1
        return TakeScore(0, 1 if left > 0 else 0, 0, 0, 20)  # a skipped word fails at any WER


def test_a_failing_take_is_redone_with_another_seed_and_retries_are_bounded(synth, voice):
    opts = SynthesisOptions(family="par", duration=0.3, verify=True, verify_retries=2)
    synth.checker = Scripted({"one.": 1, "two.": 5})
    try:
        audio = synth.synthesize("One. Two.", voice, options=opts)
        calls = synth.checker.calls
    finally:
        synth.checker = None
    texts = [t for t, _ in calls]
    assert texts == ["one.", "one.", "two.", "two.", "two."]  # one retry; two capped at 1 + 2
    assert not np.array_equal(calls[0][1], calls[1][1])  # the retry is another take
    plain = synth.synthesize(
        "One. Two.", voice, options=SynthesisOptions(family="par", duration=0.3)
    )
    assert len(audio.samples) == len(plain.samples)


def test_verify_does_not_apply_to_streams(synth, voice):
    with pytest.warns(UserWarning, match="offline synthesis only"):
        list(synth.stream("One.", voice, options=SynthesisOptions(duration=0.2, verify=True)))
