"""SynthesisOptions are checked where they are made, and the facade reports options a family
would ignore."""

import dataclasses
import math
import warnings

import pytest

from palette.codec import UserError
from palette.tts.options import RANGES, SynthesisOptions


@pytest.mark.parametrize(
    "name,value",
    [
        ("span", 0),
        ("chunk_frames", 0),
        ("speed", 0),
        ("speed", 1e-6),
        ("speed", -1.0),
        ("duration", 10_000.0),
        ("duration", -1.0),
        ("temperature", -0.1),
        ("temperature", math.nan),
        ("temperature", math.inf),
        ("top_p", 1.5),
        ("top_p", 0.0),
        ("refine_quantile", 2.0),
        ("seed", -1),
        ("seed", True),
        ("span", 2.5),
        ("sentence_pause", "long"),
    ],
)
def test_out_of_range_options_name_the_option_and_range(name, value):
    with pytest.raises(UserError, match=f"option {name}"):
        SynthesisOptions(**{name: value})


def test_every_bounded_option_is_a_field_and_defaults_pass():
    fields = {f.name for f in dataclasses.fields(SynthesisOptions)}
    assert set(RANGES) <= fields
    SynthesisOptions()  # defaults are in range
    SynthesisOptions(temperature=0.0, speed=4.0, duration=60.0, span=1)  # edges are allowed


def test_the_facade_warns_about_ignored_options(synth, voice):
    with pytest.warns(UserWarning, match="option span=16 has no effect with the ar family"):
        synth.synthesize("One.", voice, options=SynthesisOptions(family="ar", span=16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        synth.synthesize("One.", voice, options=SynthesisOptions(family="par", duration=0.2))


def test_a_bundle_recommendation_out_of_range_names_the_file(synth, voice, monkeypatch):
    bad = dataclasses.replace(synth.bundle, sampling={"par": {"temperature": 50.0}})
    monkeypatch.setattr(synth, "bundle", bad)
    with pytest.raises(UserError, match=r"bundle.json: sampling.par: option temperature=50.0"):
        synth.synthesize("One.", voice)


def test_a_prompt_transcript_far_longer_than_the_prompt_is_refused(synth):
    from .conftest import SR, speech_like

    with pytest.raises(UserError, match="transcript is too long for a 2.0 s prompt"):
        synth.encode_voice((speech_like(2.0), SR), "hello there " * 100)


def test_each_family_gets_its_own_recommended_refinement_share():
    from palette.tts.options import resolve_options

    sampling = {"par": {"refine_quantile": 0.1}, "kalle": {"refine_quantile": 0.15}}
    unset = SynthesisOptions()
    assert resolve_options(unset, sampling["kalle"]).refine_quantile == 0.15
    assert resolve_options(unset, sampling["par"]).refine_quantile == 0.1
    assert resolve_options(unset, {}).refine_quantile == 0.1  # the fallback
    chosen = SynthesisOptions(refine_quantile=0.3)  # the user's choice wins
    assert resolve_options(chosen, sampling["kalle"]).refine_quantile == 0.3
    assert resolve_options(unset, {"tau_lm": 0.9}).tau_lm == 0.9  # the relaxed threshold too
    assert resolve_options(unset, {}).tau_lm == 0.1
