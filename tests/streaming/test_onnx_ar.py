"""The autoregressive stages on onnxruntime against PyTorch: the static-cache step graph at
shapes other than the export examples (past length 0, T = 1, T = K + 1, batch 1 and 2, a
rollback), the small graphs around it, greedy AR tokens and KALL-E means, the speculative loop
(with drafts that are right and drafts that are rejected), streamed = offline, and fp16."""

import json

import numpy as np
import pytest
import torch

from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions
from palette.models.transformer import KVCache
from palette.streaming.onnx.ar_runtime import OrtCodecLM
from palette.streaming.onnx.runtime import ort_stand_ins
from palette.tts.bundle import ModelBundle
from palette.tts.options import SynthesisOptions
from palette.tts.synthesizer import Synthesizer

from .conftest import tiny_model_dir
from .test_onnx import ATOL, RTOL, SR, close, speech

pytest.importorskip("onnxruntime")
STAGES = {
    "ar": {"family": "ar", "draft_upsample": 4, "draft_weight": 1.0},
    "nar": {"family": "nar"},
    "kalle": {
        "family": "kalle",
        "latent_dim": 4,
        "aligned": True,
        "draft_ahead": 3,
        "draft_weight": 1.0,
    },
}
GREEDY = SamplingOptions(temperature=0.0)


@pytest.fixture(scope="module")
def ar_export(tmp_path_factory):
    """ar (with a draft head) + nar + aligned kalle; graphs of ar and kalle, codec in PyTorch."""
    pytest.importorskip("onnxscript")
    from palette.streaming.onnx.export import ExportOptions, export_bundle

    root = tmp_path_factory.mktemp("onnx-ar")
    bundle = tiny_model_dir(root / "model", STAGES, "ar")
    return export_bundle(bundle, root / "model-onnx", ExportOptions(codec=False))


@pytest.fixture(scope="module")
def pairs(ar_export):
    """stage -> (PyTorch model, onnxruntime stand-in)."""
    torch_models = ar_export.load_models(["ar", "kalle"])
    ort_models, _ = ort_stand_ins(ar_export, {}, None)
    return {s: (torch_models[s][0], ort_models[s][0]) for s in ("ar", "kalle")}


def test_export_writes_the_ar_graphs(ar_export):
    onnx = pytest.importorskip("onnx")
    manifest = ar_export.onnx_manifest()
    assert set(manifest["graphs"]) == {
        "ar",
        "ar_text",
        "ar_frames",
        "ar_head",
        "ar_draft",
        "kalle",
        "kalle_text",
        "kalle_frames",
        "kalle_head",
        "kalle_phones",
        "kalle_durations",
        "kalle_gaussian_draft",
    }
    assert set(manifest["weights"]) == {"ar", "kalle"} and manifest["dtype"] == "fp32"
    step = manifest["graphs"]["ar"]
    assert step["inputs"] == ["x", "positions", "mask", "cache_position", "keys", "values"]
    assert step["outputs"] == ["states", "new_keys", "new_values"]
    graph = onnx.load(str(ar_export.onnx_graph("kalle")))
    meta = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(meta["palette.config"])["model"]["family"] == "kalle"
    inputs = {i.name: i.type.tensor_type for i in graph.graph.input}
    dims = lambda name: [d.dim_param or d.dim_value for d in inputs[name].shape.dim]  # noqa: E731
    assert dims("cache_position") == [] and inputs["cache_position"].elem_type == 7  # int64
    assert inputs["mask"].elem_type == 9  # bool
    x, keys = dims("x"), dims("keys")
    assert isinstance(x[0], str) and isinstance(x[1], str) and x[2] == 32  # batch, steps, C
    assert keys[0] == 2 and isinstance(keys[1], str) and isinstance(keys[3], str)  # B, M dynamic


def prefill_inputs(model, B, seed=1):
    g = torch.Generator().manual_seed(seed)
    text_lens = torch.tensor([9, 6][:B])
    text = torch.randint(5, 40, (B, 9), generator=g)
    if model.discrete:
        frames = torch.randint(0, model.config.cardinality, (B, 6), generator=g)
    else:
        frames = torch.randn(B, model.config.latent_dim, 6, generator=g)
    return text, text_lens, frames, torch.tensor([6, 4][:B])


@pytest.mark.parametrize("stage", ["ar", "kalle"])
@pytest.mark.parametrize("batch", [1, 2])
def test_step_graph_matches_torch(pairs, stage, batch):
    """Prefill (past 0, T = 16), T = 1, T = K + 1 = 7, a rollback, then T = 3, in a cache of
    41 positions (the export examples: batch 2, T = 5, M = 23)."""
    model, ort = pairs[stage]
    text, text_lens, frames, step_lens = prefill_inputs(model, batch)
    caches = [KVCache(model.config.transformer, batch, 41) for _ in range(2)]
    g = torch.Generator().manual_seed(2)
    with torch.inference_mode():
        steps = model.step_inputs(frames)
        close(ort.step_inputs(frames), steps)
        want, want_text = model.run(text, text_lens, steps, step_lens, caches[0], with_text=True)
        got, got_text = ort.run(text, text_lens, steps, step_lens, caches[1], with_text=True)
        close(got, want)
        close(got_text, want_text)
        for t, rollback in ((1, 0), (7, 4), (3, 0)):
            x = torch.randn(batch, t, 32, generator=g)
            close(ort.extend(x, caches[1]), model.extend(x, caches[0]))
            assert caches[0].length == caches[1].length
            for cache in caches:
                cache.rollback(cache.length - rollback)
        head = "logits" if model.discrete else "predict"
        outs = [getattr(m.frames, head)(s) for m, s in ((ort, got), (model, want))]
        for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in outs), strict=True):
            close(a, b)
        x = torch.randn(batch, 30, 32, generator=g)
        for m, cache in zip((model, ort), caches, strict=True):
            with pytest.raises(RuntimeError, match="KV cache full"):
                m.extend(x, cache)


def test_text_side_graphs_match_torch(pairs):
    g = torch.Generator().manual_seed(3)
    text, text_lens = torch.randint(5, 40, (3, 13), generator=g), torch.tensor([13, 8, 4])
    model, ort = pairs["kalle"]
    with torch.inference_mode():
        close(ort.text_embed(text), model.text_embed(text))
        close(ort.log_durations(text, text_lens), model.log_durations(text, text_lens))
        index, progress = torch.randint(-1, 13, (3, 8), generator=g), torch.randint(0, 30, (3, 8))
        close(ort.phones(text, index, progress), model.phones(text, index, progress))
        model, ort = pairs["ar"]
        states = torch.randn(3, 13, 32, generator=g)
        close(ort.draft_logits(states), model.draft_logits(states))
        assert ort.draft_logits(states).shape == (3, 52, model.config.cardinality + 1)


def sentence(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(5, 40, (12,), generator=g), torch.randint(0, 900, (6,), generator=g)


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_ar_tokens_on_ort_equal_torch(pairs, seed):
    model, ort = pairs["ar"]
    text, prompt = sentence(seed)
    want = ARGenerator(model, text, prompt, 24, GREEDY).generate()
    assert len(want) > 4
    assert torch.equal(ARGenerator(ort, text, prompt, 24, GREEDY).generate(), want)
    uncached = ARGenerator(ort, text, prompt, 24, GREEDY, use_cache=False).generate()
    assert torch.equal(uncached, want)


def test_kalle_means_on_ort_match_torch(pairs):
    model, ort = pairs["kalle"]
    g = torch.Generator().manual_seed(4)
    text, prompt = torch.randint(5, 40, (10,), generator=g), torch.randn(4, 5, generator=g)
    durations = torch.tensor([0] * 4 + [2, 1, 3, 2, 1, 3])  # the prompt's phonemes carry none
    means = GaussianSampling(temperature=0.0)
    runs = [ARGenerator(m, text, prompt, 12, means, durations=durations) for m in (model, ort)]
    want, got = (r.generate() for r in runs)
    assert want.shape == got.shape == (4, 12)
    close(got, want)


def speculative(model, text, prompt, hypothesis=None):
    gen = SpeculativeARGenerator(
        model, text, prompt, 24, GREEDY, SpeculativeOptions("exact", draft_tokens=4), 5
    )
    if hypothesis is not None:
        gen._prefill()
        gen.hypothesis, gen.entropy = hypothesis, torch.zeros(len(hypothesis))
    return gen


def test_speculative_loop_on_ort_equals_torch(pairs):
    """The draft head's own drafts, drafts that are always right and drafts that are always
    rejected (every round rolls the cache back): the same codes and counts as on PyTorch, and
    the codes of greedy AR."""
    model, ort = pairs["ar"]
    text, prompt = sentence(2)
    plain = ARGenerator(model, text, prompt, 24, GREEDY).generate()
    wrong = (plain + 1) % model.config.cardinality
    for hypothesis in (None, plain.clone(), wrong):
        want, got = (speculative(m, text, prompt, hypothesis) for m in (model, ort))
        assert torch.equal(got.generate(), want.generate())
        assert torch.equal(got.generated, plain)
        assert (got.passes, got.drafted, got.accepted) == (
            want.passes,
            want.drafted,
            want.accepted,
        )
        if hypothesis is wrong:
            assert got.accepted == 0 < got.drafted
        elif hypothesis is not None:
            assert got.accepted == got.drafted > 0


@pytest.fixture(scope="module")
def ar_synths(ar_export):
    return (
        Synthesizer.from_pretrained(ar_export.directory, runtime="torch", precision="fp32"),
        Synthesizer.from_pretrained(ar_export.directory, runtime="onnx"),
    )


@pytest.mark.parametrize("family,speculative", [("ar", None), ("ar", "exact"), ("kalle", None)])
def test_greedy_synthesis_on_ort_equals_torch(ar_synths, family, speculative):
    torch_synth, ort_synth = ar_synths
    assert isinstance(ort_synth.models[family], OrtCodecLM)
    assert not isinstance(ort_synth.models["nar"], OrtCodecLM)  # the NAR stage stays PyTorch
    voice = torch_synth.encode_voice((speech(seconds=1.0), SR), "hello")
    options = SynthesisOptions(family=family, temperature=0.0, speculative=speculative)
    want = torch_synth.synthesize("Good morning.", voice, options=options).samples
    got = ort_synth.synthesize("Good morning.", voice, options=options).samples
    assert got.shape == want.shape and len(got) > 0
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("mode", ["sampling", "relaxed"])
def test_kalle_speculative_on_ort_equals_torch(ar_synths, mode):
    torch_synth, ort_synth = ar_synths
    voice = torch_synth.encode_voice((speech(seconds=1.0, seed=2), SR), "hello")
    options = SynthesisOptions(family="kalle", temperature=0.7, seed=5, speculative=mode)
    want = torch_synth.synthesize("Good morning.", voice, options=options).samples
    got = ort_synth.synthesize("Good morning.", voice, options=options).samples
    assert got.shape == want.shape and len(got) > 0
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("family", ["ar", "kalle"])
def test_streamed_equals_offline_on_ort(ar_synths, family):
    _, ort_synth = ar_synths
    voice = ort_synth.encode_voice((speech(seconds=1.0, seed=1), SR), "hello")
    options = SynthesisOptions(family=family, temperature=0.7, seed=3, chunk_frames=4)
    text = "One sentence. And two."
    chunks = list(ort_synth.stream(text, voice, options=options))
    offline = ort_synth.synthesize(text, voice, options=options).samples
    assert len(chunks) > 2
    np.testing.assert_allclose(np.concatenate(chunks), offline, atol=ATOL, rtol=RTOL)


def test_fp16_graphs_run_close_to_fp32(ar_export, tmp_path, pairs):
    """``palette export --precision fp16``: half-precision step and head graphs (and cache)
    that load and run on the CPU and stay near PyTorch fp32 (loose tolerance)."""
    from palette.tts.cli import main

    out = tmp_path / "fp16"
    argv = ["export", str(ar_export.directory), "--out", str(out), "--stage", "ar", "--no-codec"]
    assert main(argv + ["--precision", "fp16"]) == 0
    bundle = ModelBundle.read(out)
    assert bundle.onnx_manifest()["dtype"] == "fp16"
    ort = ort_stand_ins(bundle, {}, None)[0]["ar"][0]
    assert ort.core.dtype == np.float16
    model = pairs["ar"][0]
    text, text_lens, frames, step_lens = prefill_inputs(model, 2)
    caches = [KVCache(model.config.transformer, 2, 30) for _ in range(2)]
    with torch.inference_mode():
        steps = model.step_inputs(frames)
        want = model.run(text, text_lens, steps, step_lens, caches[0])
        got = ort.run(text, text_lens, steps, step_lens, caches[1])
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)
        x = torch.randn(2, 3, 32, generator=torch.Generator().manual_seed(5))
        got, want = ort.extend(x, caches[1]), model.extend(x, caches[0])
        torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)
        torch.testing.assert_close(
            ort.frames.logits(got), model.frames.logits(want), atol=5e-2, rtol=5e-2
        )


def test_auto_takes_the_runtime_measured_faster_at_export(ar_export, tmp_path):
    import shutil

    from palette.streaming.onnx.runtime import choose_runtime

    measured = ar_export.onnx_manifest()["measured"]
    assert measured["family"] == "ar" and measured["torch_rtf"] > 0 and measured["onnx_rtf"] > 0
    copy = tmp_path / "model"
    shutil.copytree(ar_export.directory, copy)
    path = copy / "onnx" / "manifest.json"
    for onnx_rtf, want in (
        (measured["torch_rtf"] * 2, "torch"),
        (measured["torch_rtf"] / 2, "onnx"),
    ):
        manifest = json.loads(path.read_text()) | {"measured": measured | {"onnx_rtf": onnx_rtf}}
        path.write_text(json.dumps(manifest))
        bundle = ModelBundle.read(copy)
        assert choose_runtime(bundle, "auto") == want
        assert choose_runtime(bundle, "onnx") == "onnx"


def test_cuda_graphs_asked_for_on_cpu_step_without_them_and_say_so(ar_export, pairs, caplog):
    from palette.streaming.onnx.ar_runtime import StaticCacheCore
    from palette.streaming.onnx.cuda_graph import CudaGraphCore
    from palette.streaming.onnx.runtime import OrtOptions

    with caplog.at_level("WARNING", logger="palette.streaming.onnx.cuda_graph"):
        models, _ = ort_stand_ins(ar_export, {}, None, OrtOptions(cuda_graph=(1, 5)))
    ort = models["ar"][0]
    assert type(ort.core) is StaticCacheCore
    assert "CUDA graphs asked for" in caplog.text and "CPUExecutionProvider" in caplog.text
    with pytest.raises(ValueError, match="CUDA graphs need CUDAExecutionProvider"):
        CudaGraphCore(ort.core.graph, ort.config)
    text, prompt = sentence(0)
    want = ARGenerator(pairs["ar"][0], text, prompt, 24, GREEDY).generate()
    assert torch.equal(ARGenerator(ort, text, prompt, 24, GREEDY).generate(), want)
