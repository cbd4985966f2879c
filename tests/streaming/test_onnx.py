"""ONNX export and the onnxruntime runner against PyTorch: every graph at shapes other than
the export examples (batch 2 with other lengths, batch 1, one frame), greedy synthesis, and
streamed against offline audio on onnxruntime."""

import json
import shutil

import numpy as np
import pytest
import torch

from palette.codec import load_codec
from palette.codec.files import UserError
from palette.streaming.onnx import OrtCodec, OrtPARModel, choose_runtime
from palette.streaming.onnx.runtime import Graph
from palette.tts.bundle import ModelBundle
from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer

pytest.importorskip("onnxruntime")
ATOL, RTOL = 1e-4, 1e-3
SR = 24000


def close(ort_out, torch_out):
    torch.testing.assert_close(ort_out, torch_out, atol=ATOL, rtol=RTOL)


def par_inputs(model, B, Lt, T, seed=1):
    g = torch.Generator().manual_seed(seed)
    cfg = model.config
    text_lens = torch.tensor([Lt] + [max(1, Lt - 2 - b) for b in range(1, B)])
    audio_lens = torch.tensor([T] + [max(1, T - 3 - b) for b in range(1, B)])
    if model.continuous:
        frames = torch.randn(B, cfg.latent_dim, T, generator=g)
    else:
        frames = torch.randint(0, cfg.cardinality, (B, T), generator=g)
    x = {
        "text": torch.randint(5, cfg.num_symbols, (B, Lt), generator=g),
        "text_lens": text_lens,
        "frames": frames,
        "audio_lens": audio_lens,
        "masked": torch.rand(B, T, generator=g) < 0.4,
    }
    if cfg.aligned:
        x["phone_index"] = torch.randint(-1, Lt, (B, T), generator=g)
        x["progress"] = torch.randint(0, 30, (B, T), generator=g)
    return x


SHAPES = [(2, 23, 31), (1, 7, 5), (3, 4, 1)]  # the export examples are (2, 11, 17)


def test_export_writes_every_graph_with_its_metadata(latent_export):
    onnx = pytest.importorskip("onnx")
    manifest = latent_export.onnx_manifest()
    assert set(manifest["graphs"]) == {
        "par",
        "par_durations",
        "refine",
        "codec_encoder",
        "codec_decoder",
        "codec_code_decoder",
    }
    assert manifest["opset"] == 20 and latent_export.stale_onnx_stages() == []
    graph = onnx.load(str(latent_export.onnx_graph("refine")))
    assert any(o.domain in ("", "ai.onnx") and o.version == 20 for o in graph.opset_import)
    meta = {p.key: p.value for p in graph.metadata_props}
    config = json.loads(meta["palette.config"])
    assert config["model"]["aligned"] and json.loads(meta["palette.symbols"]) == config["symbols"]
    dims = [d.dim_param for d in graph.graph.input[2].type.tensor_type.shape.dim]
    assert dims[0] and dims[2] and not dims[1]  # batch and frames dynamic, latent size fixed


@pytest.mark.parametrize("stage", ["par", "refine"])
@pytest.mark.parametrize("shape", SHAPES)
def test_latent_par_graphs_match_torch(latent_export, stage, shape):
    model = latent_export.load_models([stage])[stage][0]
    ort_model = OrtPARModel(Graph(latent_export.onnx_graph(stage)))
    x = par_inputs(model, *shape)
    with torch.inference_mode():
        want = model.logits(**x)
    got = ort_model.logits(**x)
    assert got[0].shape == want[0].shape == (shape[0], shape[2], 4)
    close(got[0], want[0])
    close(got[1], want[1])


@pytest.mark.parametrize("shape", SHAPES)
def test_duration_graph_matches_torch(latent_export, shape):
    model = latent_export.load_models(["par"])["par"][0]
    ort_model = OrtPARModel(
        Graph(latent_export.onnx_graph("par")), Graph(latent_export.onnx_graph("par_durations"))
    )
    x = par_inputs(model, *shape)
    with torch.inference_mode():
        want = model.log_durations(x["text"], x["text_lens"])
    close(ort_model.log_durations(x["text"], x["text_lens"]), want)


@pytest.mark.parametrize("shape", SHAPES)
def test_code_par_graph_matches_torch(code_export, shape):
    model = code_export.load_models(["par"])["par"][0]
    manifest = code_export.onnx_manifest()
    assert not model.continuous and set(manifest["graphs"]) == {"par"}
    assert set(manifest["weights"]) == {"par"}  # the NAR stage runs in PyTorch: not recorded
    ort_model = OrtPARModel(Graph(code_export.onnx_graph("par")))
    x = par_inputs(model, *shape)
    with torch.inference_mode():
        want = model.logits(**x)
    close(ort_model.logits(**x), want)
    x["frames"] = x["frames"].masked_fill(x.pop("masked"), model.mask_token)  # mask by token
    with torch.inference_mode():
        close(ort_model.logits(**x), model.logits(**x))


def ort_codec(bundle):
    graph = bundle.onnx_graph
    return OrtCodec(
        Graph(graph("codec_encoder")),
        Graph(graph("codec_decoder")),
        Graph(graph("codec_code_decoder")),
    )


@pytest.mark.parametrize("batch,frames", [(2, 40), (1, 1), (3, 6)])
def test_codec_graphs_match_torch(latent_export, batch, frames):
    codec, ort = load_codec(latent_export.codec_ref).eval(), ort_codec(latent_export)
    g = torch.Generator().manual_seed(batch)
    wav = 0.1 * torch.randn(batch, 1, frames * codec.hop_length - 5, generator=g)
    for got, want in zip(ort.encode_latents(wav), codec.encode_latents(wav), strict=True):
        close(got, want)
    codes = codec.encode(wav)
    assert torch.equal(ort.encode(wav), codes)
    latents = torch.randn(batch, codec.latent_dim, frames, generator=g)
    close(ort.decode_latents(latents), codec.decode_latents(latents))
    close(ort.decode(codes), codec.decode(codes))
    assert ort.decode_latents(latents).shape == (batch, 1, frames * codec.hop_length)


def test_chunked_decoding_on_ort_equals_its_whole_decode(latent_export):
    codec, ort = load_codec(latent_export.codec_ref).eval(), ort_codec(latent_export)
    latents = torch.randn(1, codec.latent_dim, 37, generator=torch.Generator().manual_seed(3))
    from palette.codec import FrameKind

    chunked = ort.decode_chunked(latents, 8, codec.receptive_field, FrameKind.LATENTS)
    close(chunked, ort.decode_latents(latents))


@pytest.fixture(scope="module")
def synths(latent_export):
    return (
        Synthesizer.from_pretrained(latent_export.directory, runtime="torch", precision="fp32"),
        Synthesizer.from_pretrained(latent_export.directory, runtime="onnx"),
    )


def speech(seconds=2.0, seed=0):
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / SR) / k for k in range(1, 8))
    noise = 0.003 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.1 * voiced * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2) + noise).astype(np.float32)


def test_the_onnx_runtime_swaps_in_stand_ins_below_the_loop(synths):
    torch_synth, ort_synth = synths
    assert isinstance(ort_synth.codec, OrtCodec)
    assert all(isinstance(m, OrtPARModel) for m in ort_synth.models.values())
    assert ort_synth.families == torch_synth.families == ["par"]
    v_torch = torch_synth.encode_voice((speech(), SR), "hello there")
    v_ort = ort_synth.encode_voice((speech(), SR), "hello there")
    assert torch.equal(v_torch.codes, v_ort.codes)
    close(v_ort.latents, v_torch.latents)


@pytest.mark.parametrize("refine", [0, 2])
def test_greedy_synthesis_on_ort_equals_torch(synths, refine):
    torch_synth, ort_synth = synths
    voice = torch_synth.encode_voice((speech(), SR), "hello there")
    options = SynthesisOptions(temperature=0.0, seed=0, refine_iterations=refine)
    text = "Hello there. How are you today?"
    want = torch_synth.synthesize(text, voice, options=options).samples
    got = ort_synth.synthesize(text, voice, options=options).samples
    assert got.shape == want.shape and len(got) > SR
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)


def test_streamed_equals_offline_on_ort(synths):
    _, ort_synth = synths
    voice = ort_synth.encode_voice((speech(seed=1), SR), "hello there")
    options = SynthesisOptions(temperature=0.7, seed=3, refine_iterations=0, chunk_frames=8)
    text = "One sentence here. And a second one."
    chunks = list(ort_synth.stream(text, voice, options=options))
    offline = ort_synth.synthesize(text, voice, options=options).samples
    assert len(chunks) > 4
    np.testing.assert_allclose(np.concatenate(chunks), offline, atol=ATOL, rtol=RTOL)


def test_codes_model_mixes_ort_and_torch_stages(code_export):
    """PAR on onnxruntime, the NAR stage and the codec in PyTorch: same greedy codes."""
    torch_synth = Synthesizer.from_pretrained(
        code_export.directory, runtime="torch", precision="fp32"
    )
    ort_synth = Synthesizer.from_pretrained(code_export.directory, runtime="auto")
    assert isinstance(ort_synth.models["par"], OrtPARModel)
    assert not isinstance(ort_synth.models["nar"], OrtPARModel)
    assert not isinstance(ort_synth.codec, OrtCodec)
    voice = torch_synth.encode_voice((speech(), SR), "hello there")
    options = SynthesisOptions(temperature=0.0, seed=0)
    want = torch_synth.synthesize("Good morning.", voice, options=options).samples
    got = ort_synth.synthesize("Good morning.", voice, options=options).samples
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)


def test_runtime_choice(latent_bundle, latent_export, tmp_path):
    assert choose_runtime(latent_bundle, "auto") == "torch"  # no graphs
    assert choose_runtime(latent_export, "auto") == "onnx"
    assert choose_runtime(latent_export, "torch") == "torch"
    with pytest.raises(UserError, match="no ONNX graphs"):
        choose_runtime(latent_bundle, "onnx")
    with pytest.raises(UserError, match="unknown runtime"):
        choose_runtime(latent_export, "tensorrt")
    stale = tmp_path / "stale"
    shutil.copytree(latent_export.directory, stale)
    from safetensors.torch import load_file, save_file

    weights = load_file(stale / "refine" / "model.safetensors")
    weights = {k: v + 1e-3 if v.is_floating_point() else v for k, v in weights.items()}
    save_file(weights, stale / "refine" / "model.safetensors")
    bundle = ModelBundle.read(stale)
    assert bundle.stale_onnx_stages() == ["refine"]
    assert choose_runtime(bundle, "auto") == "torch"
    with pytest.raises(UserError, match="older than the weights"):
        choose_runtime(bundle, "onnx")


def test_export_command_reports_unknown_stages(code_bundle, tmp_path, capsys):
    from palette.tts.cli import main

    assert (
        main(["export", str(code_bundle.directory), "--out", str(tmp_path / "x"), "--stage", "nar"])
        == 2
    )
    assert "no ONNX graph for stage(s) nar" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert (
        main(["export", str(code_bundle.directory), "--out", str(tmp_path / "x"), "--opset", "11"])
        == 2
    )
    assert "--opset must lie in [18, 23]" in capsys.readouterr().err
