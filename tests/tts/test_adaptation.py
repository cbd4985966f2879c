"""Prompt adaptation (``models.adapt``, ``encode_voice(adapt=...)``, ``--adapt``): the held-out
loss, determinism, what is trained, the voice file round trip and the error paths."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch

from palette.codec.files import UserError
from palette.models.adapt import AdaptOptions, adapt, adapted_copy, adapted_names
from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer
from palette.tts.voice import Voice, VoiceFileError

from ..streaming.conftest import tiny_bundle
from .conftest import SR, make_bundle, speech_like
from .test_cli_synthesis import palette

FAST = AdaptOptions(steps=12, eval_every=2, patience=50, decoder_steps=0)  # the stage alone
TEXT = "hello there, how are you today my friend"


@pytest.fixture(scope="module")
def latent_model(tmp_path_factory):
    """An aligned latent par + refine model like the default one (tiny, random)."""
    return tiny_bundle(tmp_path_factory.mktemp("adapt") / "model", latents=True).directory


@pytest.fixture(scope="module")
def synth(latent_model):
    return Synthesizer.from_pretrained(latent_model, runtime="torch", precision="fp32")


@pytest.fixture(scope="module")
def prompt(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompt") / "prompt.wav"
    sf.write(path, speech_like(3.0, seed=3), SR)
    return path


@pytest.fixture(scope="module")
def adapted(synth, prompt):
    return synth.encode_voice(prompt, TEXT, adapt=FAST)


def test_adaptation_lowers_the_held_out_loss_and_keeps_the_best(adapted):
    log = adapted.adapt_log
    assert log.steps == FAST.steps and len(log.evaluations) == 1 + FAST.steps // 2
    assert log.gain > 0  # the held-out end is predicted better than before
    best = min(log.evaluations, key=lambda e: e[1])
    assert log.best_step == best[0] > 0


def test_only_the_adapted_parameters_change(synth, adapted):
    model = synth.models["par"]
    names = adapted_names(model)
    assert {f"par.{n}" for n in names} == set(adapted.adaptation)
    assert (
        0
        < sum(v.numel() for v in adapted.adaptation.values())
        < 0.05 * sum(p.numel() for p in model.parameters())
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = {k.removeprefix("par."): v for k, v in adapted.adaptation.items()}
    copy = adapted_copy(model, tensors)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # untouched
    changed = {k for k, v in copy.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and changed <= set(names)


def test_adaptation_is_deterministic_for_a_seed(synth, prompt, adapted):
    again = synth.encode_voice(prompt, TEXT, adapt=FAST)
    assert all(torch.equal(again.adaptation[k], v) for k, v in adapted.adaptation.items())
    other = synth.encode_voice(prompt, TEXT, adapt=dataclasses.replace(FAST, seed=1))
    assert any(not torch.equal(other.adaptation[k], v) for k, v in adapted.adaptation.items())


def test_an_adapted_voice_saves_loads_and_speaks_differently(synth, prompt, adapted, tmp_path):
    path = adapted.save(tmp_path / "adapted.safetensors")
    loaded = Voice.load(path)
    assert loaded.adapted_for == adapted.adapted_for and set(loaded.adaptation) == set(
        adapted.adaptation
    )
    options = SynthesisOptions(seed=0, duration=0.6)
    a = synth.synthesize("One two three.", loaded, options=options).samples
    b = synth.synthesize("One two three.", adapted, options=options).samples
    plain = synth.synthesize("One two three.", synth.encode_voice(prompt, TEXT), options=options)
    assert np.array_equal(a, b)
    assert len(plain.samples) == len(a) and not np.allclose(plain.samples, a, atol=1e-4)


def test_voice_adapted_to_other_weights_or_damaged_is_refused(synth, adapted, tmp_path):
    other = dataclasses.replace(adapted, adapted_for="0" * 64)
    with pytest.raises(UserError, match="adapted to another model's weights"):
        synth.synthesize("One.", other)
    wrong = dataclasses.replace(adapted, adaptation={"par.core.norm.weight": torch.ones(3)})
    with pytest.raises(UserError, match="does not fit this model.*core.norm.weight"):
        synth.synthesize("One.", wrong)
    bad = dataclasses.replace(adapted, adaptation={"par.nope": torch.ones(3)})
    with pytest.raises(UserError, match="'nope' is not an adapted parameter"):
        synth.synthesize("One.", bad)
    nan = dict(adapted.adaptation, **{"par.mask_embed": torch.full((32,), float("nan"))})
    path = dataclasses.replace(adapted, adaptation=nan).save(tmp_path / "nan.safetensors")
    with pytest.raises(VoiceFileError, match="'adapt.par.mask_embed' has NaN"):
        Voice.load(path)
    unmarked = dataclasses.replace(adapted, adapted_for=None).save(tmp_path / "u.safetensors")
    with pytest.raises(VoiceFileError, match="without the field 'adapted_for'"):
        Voice.load(unmarked)


def test_prompts_and_models_that_cannot_be_adapted_to(synth, prompt, tmp_path):
    ids = torch.tensor(synth.frontend.symbols.encode(list("hɛloʊ")))
    with pytest.raises(ValueError, match="30 frames is too short to adapt to"):
        adapt(synth.models["par"], ids, torch.zeros(4, 30), torch.zeros(4, 30), FAST)
    codes = Synthesizer.from_pretrained(make_bundle(tmp_path / "codes", stages=("par",)))
    with pytest.raises(UserError, match="needs an aligned latent PAR stage"):
        codes.encode_voice(prompt, TEXT, adapt=FAST)


def test_cli_adapts_saves_and_refuses_an_unadapted_voice_file(latent_model, prompt, tmp_path):
    voice, plain = tmp_path / "voice.safetensors", tmp_path / "plain.safetensors"
    common = ["--model", str(latent_model), "--duration", "0.4", "--runtime", "torch"]
    r = palette(
        "synthesize", "One two.", "--prompt", str(prompt), "--prompt-text", TEXT,
        "--adapt", "--adapt-steps", "4", "-o", str(tmp_path / "a.wav"),
        "--save-voice", str(voice), *common,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    assert Voice.load(voice).adaptation
    r = palette(
        "synthesize", "One.", "--prompt", str(voice), "--adapt", "-o", str(tmp_path / "b.wav"),
        *common,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    synth = Synthesizer.from_pretrained(latent_model, runtime="torch")
    synth.encode_voice(prompt, TEXT).save(plain)
    r = palette("synthesize", "One.", "--prompt", str(plain), "--adapt", "-o", "x.wav", *common)
    assert r.returncode == 2
    assert "--adapt needs the prompt's audio" in r.stderr.decode().strip().splitlines()[-1]
