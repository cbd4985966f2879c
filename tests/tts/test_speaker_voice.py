"""A speaker-conditioned model through the synthesis API: the voice carries the prompt's
speaker embedding (saved, loaded, checked), synthesis follows it, adaptation uses it, and the
ONNX export refuses such a stage with a clear error."""

import dataclasses
import importlib.util

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from palette.codec.files import UserError
from palette.models.adapt import AdaptOptions
from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer
from palette.tts.voice import Voice, VoiceFileError

from ..streaming.conftest import tiny_model_dir
from .conftest import SR, speech_like

if importlib.util.find_spec("resemblyzer") is None:  # importing it needs deps' shim
    pytest.skip("resemblyzer is not installed", allow_module_level=True)
E = 256  # resemblyzer's d-vector
TEXT = "hello there, how are you today my friend"


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    fields = {"family": "par", "latent_dim": 4, "aligned": True, "speaker_dim": E}
    model = tiny_model_dir(tmp_path_factory.mktemp("spk") / "model", {"par": fields}, "par")
    with torch.no_grad():  # a random projection too small to matter: make the voice count
        synth = Synthesizer.from_pretrained(model.directory, runtime="torch", precision="fp32")
        synth.models["par"].speaker_proj.weight.mul_(50.0)
    return synth


@pytest.fixture(scope="module")
def voices(synth):
    a = synth.encode_voice((speech_like(3.0, seed=1), SR), TEXT)
    low = speech_like(3.0, seed=2)
    b = synth.encode_voice((np.roll(low, 7) * np.hanning(len(low)), SR), TEXT)
    return a, b


def test_the_voice_carries_a_unit_speaker_embedding(synth, voices, tmp_path):
    a, b = voices
    assert synth.speaker_dim == E and a.speaker.shape == (E,)
    assert abs(float(a.speaker.norm()) - 1.0) < 1e-4 and not torch.equal(a.speaker, b.speaker)
    loaded = Voice.load(a.save(tmp_path / "a.voice"))
    torch.testing.assert_close(loaded.speaker, a.speaker)


def test_synthesis_follows_the_speaker_embedding(synth, voices):
    a, b = voices
    options = SynthesisOptions(seed=0, temperature=0.0)
    swapped = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents, speaker=b.speaker)
    out_a = synth.synthesize("one two three", a, options=options).samples
    again = synth.synthesize("one two three", a, options=options).samples
    out_swapped = synth.synthesize("one two three", swapped, options=options).samples
    np.testing.assert_array_equal(out_a, again)
    assert not np.allclose(out_a, out_swapped)  # the same prompt frames, another embedding


def test_speaker_scale_weights_the_embedding(synth, voices):
    a, _ = voices
    options = SynthesisOptions(seed=0, temperature=0.0)
    muted = SynthesisOptions(seed=0, temperature=0.0, speaker_scale=0.0)
    zeroed = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents, speaker=torch.zeros(E))
    doubled = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents, speaker=2 * a.speaker)
    twice = SynthesisOptions(seed=0, temperature=0.0, speaker_scale=2.0)
    say = "one two three"
    # scale 0 is the prompt alone: the embedding a training step drops (zeros)
    np.testing.assert_array_equal(
        synth.synthesize(say, a, options=muted).samples,
        synth.synthesize(say, zeroed, options=options).samples,
    )
    np.testing.assert_allclose(
        synth.synthesize(say, a, options=twice).samples,
        synth.synthesize(say, doubled, options=options).samples,
        atol=1e-5,
    )
    with pytest.raises(UserError, match="speaker_scale"):
        SynthesisOptions(speaker_scale=-1.0)


def test_a_voice_without_embedding_warns_and_a_wrong_size_is_an_error(synth, voices):
    a, _ = voices
    options = SynthesisOptions(seed=0)
    bare = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents)
    with pytest.warns(UserWarning, match="no speaker embedding"):
        synth.synthesize("one two", bare, options=options)
    wrong = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents, speaker=torch.ones(8))
    with pytest.raises(UserError, match="8 values; this model takes 256"):
        synth.synthesize("one two", wrong, options=options)


def test_damaged_speaker_fields_are_named(voices, tmp_path):
    a, _ = voices
    path = a.save(tmp_path / "a.voice")
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
    tensors = load_file(str(path))
    for bad, needle in ((torch.ones(2, 3), "1-D"), (torch.full((4,), float("nan")), "NaN")):
        save_file(tensors | {"speaker": bad}, str(tmp_path / "bad.voice"), metadata=meta)
        with pytest.raises(VoiceFileError, match=needle):
            Voice.load(tmp_path / "bad.voice")


def test_adaptation_uses_the_speaker_embedding(synth):
    voice = synth.encode_voice(
        (speech_like(3.0, seed=1), SR),
        TEXT,
        adapt=AdaptOptions(steps=4, eval_every=2, decoder_steps=0),
    )
    assert voice.adaptation and voice.adapt_log.steps >= 1
    assert voice.speaker is not None


def test_onnx_graphs_of_a_speaker_conditioned_stage_match_torch(synth, voices, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from palette.streaming.onnx.export import ExportOptions, export_bundle

    exported = export_bundle(synth.bundle, tmp_path / "onnx", ExportOptions(measure=False))
    ort = Synthesizer.from_pretrained(exported.directory, runtime="onnx", precision="fp32")
    model = Synthesizer.from_pretrained(exported.directory, runtime="torch", precision="fp32")
    assert "speaker" in ort.models["par"].forward_graph.inputs
    assert "speaker" in ort.models["par"].durations_graph.inputs
    a, b = voices
    options = SynthesisOptions(seed=0, temperature=0.0)
    for voice in (a, b):
        want = model.synthesize("one two three", voice, options=options).samples
        got = ort.synthesize("one two three", voice, options=options).samples
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-3)


@pytest.fixture(scope="module")
def ar_export(tmp_path_factory):
    """A speaker-conditioned aligned kalle stage (with its Gaussian draft head), a latent refine
    stage that refines its sentences, and their ONNX export: (PyTorch synthesizer, onnxruntime
    synthesizer). The ar family's speaker path is the same code (``SpeakerConditioned``, the
    ``_speaker`` graph): tests/models covers it."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from palette.streaming.onnx.export import ExportOptions, export_bundle

    stages = {
        "kalle": {
            "family": "kalle",
            "latent_dim": 4,
            "aligned": True,
            "speaker_dim": E,
            "draft_ahead": 3,
        },
        "refine": {"family": "par", "latent_dim": 4, "aligned": True, "speaker_dim": E},
    }
    root = tmp_path_factory.mktemp("spk-ar")
    model = tiny_model_dir(root / "model", stages, "kalle")
    # a random projection too small to matter: make the voice count
    path = model.directory / "kalle" / "model.safetensors"
    tensors = load_file(str(path))
    tensors["speaker_proj.weight"] = 50.0 * tensors["speaker_proj.weight"]
    save_file(tensors, str(path))
    exported = export_bundle(model, root / "onnx", ExportOptions(codec=False, measure=False))
    graphs = exported.onnx_manifest()["graphs"]
    assert {"kalle_speaker", "kalle_durations"} <= set(graphs)
    load = lambda runtime: Synthesizer.from_pretrained(  # noqa: E731
        exported.directory, runtime=runtime, precision="fp32"
    )
    return load("torch"), load("onnx")


@pytest.mark.parametrize("speculative", [None, "relaxed"])
def test_kalle_follows_the_speaker_embedding_and_matches_on_onnx(ar_export, speculative):
    torch_synth, ort = ar_export
    a = torch_synth.encode_voice((speech_like(3.0, seed=1), SR), TEXT)
    low = speech_like(3.0, seed=2)
    b = torch_synth.encode_voice((np.roll(low, 7) * np.hanning(len(low)), SR), TEXT)
    assert torch_synth.speaker_dim == E and a.speaker.shape == (E,)
    options = SynthesisOptions(
        family="kalle", seed=0, temperature=0.0, speculative=speculative, refine_quantile=0.3
    )
    swapped = Voice(a.codec, a.text, a.phonemes, a.codes, a.latents, speaker=b.speaker)
    outputs = []
    for voice in (a, swapped):
        want = torch_synth.synthesize("one two three", voice, options=options).samples
        got = ort.synthesize("one two three", voice, options=options).samples
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-3)
        outputs.append(want)
        unrefined = dataclasses.replace(options, refine_iterations=0)
        plain = torch_synth.synthesize("one two three", voice, options=unrefined).samples
        assert not np.allclose(plain, want)  # the refine stage rewrote kalle's frames
    assert not np.allclose(*outputs)  # the same prompt frames, another embedding
