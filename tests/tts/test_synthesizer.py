import dataclasses

import numpy as np
import pytest
import torch

from palette.tts.registry import resolve_model
from palette.tts.synthesizer import SynthesisOptions, Synthesizer
from palette.tts.voice import Voice

from .conftest import SR, speech_like


def test_voice_is_encoded_once_and_round_trips_through_a_file(synth, voice, tmp_path):
    assert voice.codes.shape == (2, 100) and voice.latents.shape == (4, 100)
    assert voice.phonemes == "həlˈoʊ ðˈɛɹ"
    path = voice.save(tmp_path / "v.safetensors")
    again = Voice.load(path)
    assert torch.equal(again.codes, voice.codes) and torch.equal(again.latents, voice.latents)
    assert (again.text, again.phonemes, again.codec) == (voice.text, voice.phonemes, voice.codec)


@pytest.mark.parametrize("family", ["ar", "par", "kalle"])
def test_every_family_speaks_and_the_seed_fixes_the_audio(synth, voice, family):
    options = SynthesisOptions(family=family, seed=3, duration=0.5)
    a = synth.synthesize("One two.", voice, options=options)
    b = synth.synthesize("One two.", voice, options=options)
    assert a.sample_rate == SR and a.samples.dtype == np.float32 and a.duration > 0
    assert np.array_equal(a.samples, b.samples)
    if family == "par":  # duration fixes the length: 25 frames of 480 samples
        assert len(a.samples) == 25 * 480


def test_several_sentences_are_joined_with_pauses(synth, voice):
    opts = SynthesisOptions(family="par", duration=0.2, sentence_pause=0.1)
    one = synth.synthesize("One.", voice, options=opts)
    two = synth.synthesize("One. Two.", voice, options=opts)
    assert len(two.samples) == 2 * len(one.samples) + int(0.1 * SR)


def test_several_texts_in_one_call(synth, voice):
    outs = synth.synthesize(["One.", "Two."], voice, options=SynthesisOptions(duration=0.2))
    assert len(outs) == 2 and all(o.duration > 0 for o in outs)


def test_bad_inputs_are_clear_errors(synth, voice, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        synth.synthesize("  ", voice)
    with pytest.raises(ValueError, match="no 'xyz' family"):
        synth.synthesize("hi", voice, options=SynthesisOptions(family="xyz"))
    other = Voice("another-codec", voice.text, voice.phonemes, voice.codes, voice.latents)
    with pytest.raises(ValueError, match="encoded with codec 'another-codec'"):
        synth.synthesize("hi", other)
    with pytest.raises(ValueError, match="silent"):
        synth.encode_voice((np.zeros(SR * 2, np.float32), SR), "hi")
    with pytest.raises(FileNotFoundError, match="bundle.json"):
        resolve_model(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        Voice.load(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a voice")
    with pytest.raises(ValueError, match="not a palette voice"):
        Voice.load(tmp_path / "bad.safetensors")


def test_a_model_that_ends_at_once_gives_empty_audio_not_a_crash(tiny_bundle, voice):
    synth = Synthesizer.from_pretrained(tiny_bundle)
    with torch.no_grad():
        synth.models["ar"].frames.head.bias[-1] = 50.0  # end of speech first
    audio = synth.synthesize("One.", voice, options=SynthesisOptions(family="ar"))
    assert audio.samples.shape == (0,)


def test_options_left_unset_take_the_models_recommendation(synth, monkeypatch):
    sampling = {"par": {"temperature": 0.3, "span": 32}}
    monkeypatch.setattr(synth, "bundle", dataclasses.replace(synth.bundle, sampling=sampling))
    resolved = synth.resolve(SynthesisOptions(), "par")
    assert (resolved.temperature, resolved.span) == (0.3, 32)
    assert synth.resolve(SynthesisOptions(temperature=1.0), "par").temperature == 1.0
    assert synth.resolve(SynthesisOptions(), "ar").temperature == 0.8  # the fallback


def test_messages_say_which_text_is_at_fault(synth, voice):
    from palette.codec import UserError

    with pytest.raises(UserError, match="the prompt transcript: the text is empty"):
        synth.encode_voice((speech_like(2.0), SR), "  ")
    with pytest.raises(UserError, match="the text to speak: the text is empty"):
        synth.synthesize(" ", voice)
    with pytest.raises(UserError, match="the text to speak: nothing speakable in '...'"):
        synth.synthesize("...", voice)  # punctuation only: an error, not silence with exit 0
