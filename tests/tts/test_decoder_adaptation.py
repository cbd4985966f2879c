"""Prompt adaptation of the codec decoder (``models.decoder_adapt``, ``AdaptOptions.decoder_steps``,
``--adapt-decoder-steps``): what it trains, the held-out loss, the voice file, the weights check,
streaming with the adapted decoder and the error paths."""

import dataclasses

import numpy as np
import pytest
import torch

from palette.codec.files import UserError
from palette.codec.palette_codec import PaletteCodec
from palette.models.adapt import AdaptOptions
from palette.models.decoder_adapt import (
    adapt_decoder,
    decoder_adapted_copy,
    decoder_adapted_names,
)
from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer
from palette.tts.voice import Voice

from .test_adaptation import FAST, TEXT, adapted, latent_model, prompt, synth  # noqa: F401
from .test_cli_synthesis import palette

DECODER = dataclasses.replace(FAST, decoder_steps=8, decoder_lr=1e-2)


@pytest.fixture(scope="module")
def decoder_adapted(synth, prompt):  # noqa: F811
    return synth.encode_voice(prompt, TEXT, adapt=DECODER)


def test_decoder_adaptation_trains_only_decoder_norms_and_lowers_the_held_out_loss(
    synth,  # noqa: F811
    decoder_adapted,
):
    log = decoder_adapted.adapt_log.decoder
    assert log.steps == DECODER.decoder_steps and log.gain > 0 and log.best_step > 0
    names = decoder_adapted_names(synth.codec)
    assert names and all(n.startswith("decoder.") for n in names)
    codec_keys = {k for k in decoder_adapted.adaptation if k.startswith("codec.")}
    assert codec_keys == {f"codec.{n}" for n in names}
    tensors = {k.removeprefix("codec."): v for k, v in decoder_adapted.adaptation.items()}
    copy = decoder_adapted_copy(synth.codec, {k: tensors[k] for k in names})
    before, after = synth.codec.state_dict(), copy.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and changed <= set(names)
    wav = torch.randn(1, 1, 4800, generator=torch.Generator().manual_seed(0))
    assert torch.equal(synth.codec.encode_latents(wav)[0], copy.encode_latents(wav)[0])


def test_decoder_adaptation_is_deterministic(synth, prompt, decoder_adapted):  # noqa: F811
    again = synth.encode_voice(prompt, TEXT, adapt=DECODER)
    assert set(again.adaptation) == set(decoder_adapted.adaptation)
    assert all(torch.equal(again.adaptation[k], v) for k, v in decoder_adapted.adaptation.items())


def test_decoder_adapted_voice_saves_loads_speaks_differently_and_streams_the_same(
    synth,  # noqa: F811
    adapted,  # noqa: F811
    decoder_adapted,
    tmp_path,
):
    assert decoder_adapted.adapted_for != adapted.adapted_for  # the codec's weights count too
    loaded = Voice.load(decoder_adapted.save(tmp_path / "v.safetensors"))
    options = SynthesisOptions(seed=0, duration=0.6, refine_iterations=0)  # refine: offline only
    a = synth.synthesize("One two three.", loaded, options=options).samples
    b = synth.synthesize("One two three.", adapted, options=options).samples
    assert len(a) == len(b) and not np.allclose(a, b, atol=1e-4)  # same frames, other decoder
    streamed = np.concatenate(list(synth.stream("One two three.", loaded, options=options)))
    np.testing.assert_allclose(streamed, a, atol=1e-5)


def test_decoder_adaptation_for_another_codec_or_a_short_prompt_is_refused(
    synth,  # noqa: F811
    decoder_adapted,
    tmp_path,
):
    torch.manual_seed(1)
    other = Synthesizer.from_pretrained(synth.bundle.directory, runtime="torch", precision="fp32")
    other.codec = PaletteCodec(synth.codec.config).eval()  # same sizes, other weights
    with pytest.raises(UserError, match="adapted to another model's weights"):
        other.synthesize("One.", decoder_adapted)
    with pytest.raises(ValueError, match="too short to adapt the decoder"):
        adapt_decoder(synth.codec, torch.zeros(480), torch.zeros(4, 2), AdaptOptions())
    bad = dict(decoder_adapted.adaptation, **{"codec.encoder.norm.weight": torch.ones(32)})
    with pytest.raises(UserError, match="'encoder.norm.weight' is not an adapted parameter"):
        synth.synthesize("One.", dataclasses.replace(decoder_adapted, adaptation=bad))
    bad = dict(decoder_adapted.adaptation, **{"vocoder.x": torch.ones(3)})
    with pytest.raises(UserError, match="unknown stage: 'vocoder.x'"):
        synth.synthesize("One.", dataclasses.replace(decoder_adapted, adaptation=bad))


def test_cli_adapts_the_decoder_and_checks_the_step_count(latent_model, prompt, tmp_path):  # noqa: F811
    voice = tmp_path / "voice.safetensors"
    common = ["--model", str(latent_model), "--duration", "0.4", "--runtime", "torch"]
    args = ["synthesize", "One two.", "--prompt", str(prompt), "--prompt-text", TEXT, "--adapt"]
    r = palette(
        *args, "--adapt-steps", "2", "--adapt-decoder-steps", "2", "-o", str(tmp_path / "a.wav"),
        "--save-voice", str(voice), *common,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    assert any(k.startswith("codec.decoder.") for k in Voice.load(voice).adaptation)
    r = palette(*args, "--adapt-decoder-steps", "-1", "-o", str(tmp_path / "b.wav"), *common)
    assert r.returncode == 2
    assert "--adapt-decoder-steps must be 0 or more" in r.stderr.decode()


def test_decoder_alone_is_adapted_when_the_stage_has_no_steps(synth, prompt, decoder_adapted):  # noqa: F811
    alone = synth.encode_voice(prompt, TEXT, adapt=dataclasses.replace(DECODER, steps=0))
    assert alone.adaptation and all(k.startswith("codec.decoder.") for k in alone.adaptation)
    log = alone.adapt_log
    assert log.steps == 0 and log.decoder.steps == DECODER.decoder_steps
    assert log.total_seconds == pytest.approx(log.decoder.seconds)
    ours = {k: v for k, v in decoder_adapted.adaptation.items() if k.startswith("codec.")}
    assert all(torch.equal(alone.adaptation[k], v) for k, v in ours.items())  # same decoder fit
    options = SynthesisOptions(seed=0, duration=0.6, refine_iterations=0)
    plain = synth.encode_voice(prompt, TEXT)
    a = synth.synthesize("One two.", alone, options=options).samples
    b = synth.synthesize("One two.", plain, options=options).samples
    assert len(a) == len(b) and not np.allclose(a, b, atol=1e-4)  # same frames, other decoder
    with pytest.raises(UserError, match="nothing to adapt"):
        synth.encode_voice(
            prompt, TEXT, adapt=dataclasses.replace(DECODER, steps=0, decoder_steps=0)
        )


def test_cli_refuses_an_adaptation_with_no_steps(latent_model, prompt, tmp_path):  # noqa: F811
    args = ["synthesize", "One two.", "--prompt", str(prompt), "--prompt-text", TEXT, "--adapt"]
    common = ["--model", str(latent_model), "--duration", "0.4", "--runtime", "torch"]
    no_steps = ["--adapt-steps", "0", "--adapt-decoder-steps", "0"]
    r = palette(*args, *no_steps, "-o", str(tmp_path / "b.wav"), *common)
    assert r.returncode == 2
    assert "--adapt-steps 0 and --adapt-decoder-steps 0 adapts nothing" in r.stderr.decode()


def test_the_default_adaptation_is_the_decoders_alone(synth, prompt):  # noqa: F811
    """``adapt=True`` (and a bare ``--adapt``) adapts the codec decoder and leaves the PAR stage:
    measured, the stage's adaptation made the shipped model's speech worse."""
    default = AdaptOptions()
    assert default.steps == 0 and default.decoder_steps > 0
    voice = synth.encode_voice(prompt, TEXT, adapt=True)
    assert voice.adaptation and all(k.startswith("codec.decoder.") for k in voice.adaptation)
    assert voice.adapt_log.steps == 0 and 0 < voice.adapt_log.decoder.steps <= default.decoder_steps
