"""Self-speculative decoding through the facade and the CLI, for both autoregressive families:
exact greedy gives greedy AR's audio, every mode streams what it gives offline, and a mode a
family cannot run is one clear line."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from palette.codec import UserError
from palette.tts.options import SynthesisOptions

from .conftest import SR, make_bundle, speech_like


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("spec") / "model"
    return make_bundle(root, stages=("ar", "nar", "kalle"), default="ar", speculative=True)


@pytest.fixture(scope="module")
def synth(bundle):
    from palette.tts.synthesizer import Synthesizer

    return Synthesizer.from_pretrained(bundle)


@pytest.fixture(scope="module")
def voice(synth):
    return synth.encode_voice((speech_like(2.0), SR), "hello there")


def test_exact_greedy_speculative_gives_greedy_ar_audio(synth, voice):
    greedy = SynthesisOptions(family="ar", temperature=0.0, duration=0.6)
    plain = synth.synthesize("One two.", voice, options=greedy)
    fast = synth.synthesize(
        "One two.", voice, options=dataclasses.replace(greedy, speculative="exact")
    )
    assert plain.samples.size and np.array_equal(plain.samples, fast.samples)


@pytest.mark.parametrize(
    "family, mode",
    [("ar", "sampling"), ("ar", "relaxed"), ("kalle", "sampling"), ("kalle", "relaxed")],
)
def test_every_mode_streams_what_it_gives_offline(synth, voice, family, mode):
    options = SynthesisOptions(family=family, speculative=mode, duration=0.6, seed=3)
    offline = synth.synthesize("One two.", voice, options=options).samples
    streamed = np.concatenate(list(synth.stream("One two.", voice, options=options)))
    plain = synth.synthesize(
        "One two.", voice, options=dataclasses.replace(options, speculative=None)
    ).samples
    assert offline.shape == plain.shape  # aligned: the durations fix the length
    np.testing.assert_allclose(streamed, offline, atol=1e-4)


def test_exact_mode_with_the_gaussian_family_is_a_user_error(synth, voice):
    with pytest.raises(UserError, match="exact"):
        synth.synthesize(
            "One.", voice, options=SynthesisOptions(family="kalle", speculative="exact")
        )


def test_cli_runs_each_family_speculatively(bundle, tmp_path):
    prompt = tmp_path / "prompt.wav"
    sf.write(prompt, speech_like(2.0), SR)
    common = ["--model", str(bundle), "--prompt", str(prompt), "--prompt-text", "hello there"]
    for family, mode in (("ar", "relaxed"), ("kalle", "sampling")):
        out = tmp_path / f"{family}.wav"
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "palette.tts",
                "synthesize",
                "One two.",
                "-o",
                str(out),
                "--family",
                family,
                "--speculative",
                mode,
                "--tau-lm",
                "0.2",
                *common,
            ],
            capture_output=True,
            timeout=180,
        )
        assert r.returncode == 0, r.stderr.decode()
        assert sf.info(out).frames > 0
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "palette.tts",
            "synthesize",
            "One.",
            "-o",
            str(tmp_path / "x.wav"),
            "--family",
            "kalle",
            "--speculative",
            "exact",
            *common,
        ],
        capture_output=True,
        timeout=180,
    )
    err = r.stderr.decode()
    assert r.returncode == 2 and "exact" in err and "Traceback" not in err
