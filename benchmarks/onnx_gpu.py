"""The onnxruntime path on a CUDA machine: fp16 parity, frames/s and RTF at batch 1 and 8.

    pip install -e ".[gpu]"          # onnxruntime-gpu (not together with the onnx extra)
    palette export palette-mini-en --out exp/palette-mini-en-onnx
    python benchmarks/onnx_gpu.py --model exp/palette-mini-en-onnx

For every exported graph it builds an fp16 copy (``onnxruntime.transformers.float16``, inputs
and outputs kept float32; the codec decoder stays fp32 when its fp16 error is above
``--vocoder-tolerance``) and reports the largest fp16-vs-fp32 difference on CUDA. Then it times
the PAR forward at batch 1 and 8 with IOBinding (inputs copied to the device once, outputs
left there) in fp32 and fp16, as generated frames per second at the default span, and the end
to end RTF of ``Synthesizer.synthesize`` on the CUDA provider. Last, the AR step with and
without CUDA graphs (``streaming.onnx.cuda_graph``, ``OrtOptions(cuda_graph=...)``) on a
real-size KALL-E stage with random weights (``speculative_onnx.random_bundle``: the trained AR
stages do not ship): the largest difference between replayed and plain states, ms per decode
step (T = 1) and per verification step (T = K + 1) at batch 1 and 8, and the RTF of plain and
speculative kalle synthesis. Writes ``benchmarks/results/onnx_gpu.md``; exits with an error
when CUDA is not the provider in use.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
CUDA = "CUDAExecutionProvider"


def session(path, providers=(CUDA,)):
    import onnxruntime as ort

    s = ort.InferenceSession(str(path), providers=list(providers))
    if s.get_providers()[0] != CUDA:
        sys.exit(f"{path.name}: CUDA is not in use (providers {s.get_providers()})")
    return s


def fp16_copy(path: Path) -> Path:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    out = path.with_name(path.stem + ".fp16.onnx")
    if not out.exists():
        model = convert_float_to_float16(onnx.load(str(path)), keep_io_types=True)
        onnx.save(model, str(out))
    return out


def par_feed(bundle, batch: int, Lt: int = 120, T: int = 400) -> dict:
    import json

    from palette.models.config import LMConfig

    meta = session(bundle.onnx_graph("par")).get_modelmeta().custom_metadata_map
    cfg = LMConfig.from_dict(json.loads(meta["palette.config"])["model"])
    g = np.random.default_rng(0)
    feed = {
        "text": g.integers(5, cfg.num_symbols, (batch, Lt)),
        "text_lens": np.full(batch, Lt),
        "audio_lens": np.full(batch, T),
        "masked": np.arange(T)[None].repeat(batch, 0) >= T // 2,
    }
    feed["frames"] = (
        g.standard_normal((batch, cfg.latent_dim, T)).astype(np.float32)
        if cfg.latent_dim
        else g.integers(0, cfg.cardinality, (batch, T))
    )
    if cfg.aligned:
        feed["phone_index"] = np.minimum(np.arange(T) // 4, Lt - 1)[None].repeat(batch, 0)
        feed["progress"] = (np.arange(T) % 4)[None].repeat(batch, 0)
    return {k: np.ascontiguousarray(v) for k, v in feed.items()}


def timed_binding(s, feed, repeats=50) -> float:
    """Median ms of one run with IOBinding: inputs on the device, outputs left there."""
    import onnxruntime as ort

    binding = s.io_binding()
    for name, value in feed.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
    for out in s.get_outputs():
        binding.bind_output(out.name, "cuda")
    s.run_with_iobinding(binding)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        s.run_with_iobinding(binding)
        binding.synchronize_outputs()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    from palette.tts.bundle import ModelBundle
    from palette.tts.registry import resolve_model

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="exp/palette-mini-en-onnx")
    p.add_argument("--vocoder-tolerance", type=float, default=1e-2)
    p.add_argument("--draft", type=int, default=8, help="K: verification steps are K + 1 long")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/onnx_gpu.md"))
    args = p.parse_args()
    bundle = ModelBundle.read(resolve_model(args.model))
    lines = [
        "# onnxruntime on CUDA",
        "",
        f"`python benchmarks/onnx_gpu.py {' '.join(sys.argv[1:])}`",
        "",
        "| graph | max abs fp16 − fp32 | kept |",
        "|---|---|---|",
    ]
    for name in ("par", "refine", "codec_decoder"):
        path = bundle.onnx_graph(name)
        if path is None:
            continue
        s32, s16 = session(path), session(fp16_copy(path))
        feed = (
            par_feed(bundle, 1)
            if name != "codec_decoder"
            else {
                "latents": np.random.default_rng(0).standard_normal((1, 16, 200)).astype(np.float32)
            }
        )
        diff = max(
            float(np.abs(a - b).max())
            for a, b in zip(s32.run(None, feed), s16.run(None, feed), strict=True)
        )
        kept = "fp32" if name == "codec_decoder" and diff > args.vocoder_tolerance else "fp16"
        lines.append(f"| {name} | {diff:.2e} | {kept} |")
    lines += ["", "| PAR forward | batch | ms per call | frames/s (span 32) |", "|---|---|---|---|"]
    for precision in ("fp32", "fp16"):
        path = bundle.onnx_graph("par")
        s = session(path if precision == "fp32" else fp16_copy(path))
        for batch in (1, 8):
            ms = timed_binding(s, par_feed(bundle, batch))
            lines.append(f"| {precision} | {batch} | {ms:.2f} | {batch * 32 / ms * 1000:,.0f} |")
    from palette.tts.options import SynthesisOptions
    from palette.tts.synthesizer import Synthesizer

    torch.set_num_threads(4)
    synth = Synthesizer.from_pretrained(args.model, runtime="onnx")
    voice = synth.encode_voice(ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text())
    texts = ["The quick brown fox jumps over the lazy dog."] * 8
    for batch in (1, 8):
        start = time.perf_counter()
        audio = synth.synthesize(texts[:batch], voice, options=SynthesisOptions(seed=0))
        wall = time.perf_counter() - start
        seconds = sum(len(a.samples) for a in audio) / synth.sample_rate
        lines.append(f"\nEnd to end, {batch} text(s) in one call: RTF {wall / seconds:.3f}")
    lines.append(
        "\n(texts of one call are spoken one after another: the sentence loop has "
        "no batching, so batch 8 end to end is 8 × batch 1)"
    )
    lines += ar_steps(args.draft)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def timed_steps(core, config, B: int, T: int, steps: int = 200, prefill: int = 64):
    """(states of the first step, median ms per step) of ``steps`` steps of length ``T`` over a
    cache of ``prefill`` rows (rolled back after every step, as a rejected draft is)."""
    from palette.models.transformer import KVCache

    g = torch.Generator().manual_seed(0)
    cache = KVCache(config.transformer, B, prefill + T + 8)
    C = config.transformer.dim
    core(
        torch.randn(B, prefill, C, generator=g),
        torch.arange(prefill).expand(B, prefill),
        torch.ones(B, 1, prefill, prefill, dtype=torch.bool).tril(),
        cache,
    )
    x = torch.randn(B, T, C, generator=g)
    positions = torch.arange(prefill, prefill + T).expand(B, T)
    mask = torch.ones(B, 1, T, prefill + T, dtype=torch.bool)
    first, times = None, []
    for _ in range(steps):
        start = time.perf_counter()
        states = core(x, positions, mask, cache)
        times.append(time.perf_counter() - start)
        first = states if first is None else first
        cache.rollback(prefill)
    return first, 1000 * statistics.median(times[3:])


def ar_steps(draft: int) -> list[str]:
    """The AR step with and without CUDA graphs (see the module docstring)."""
    import tempfile

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from speculative_onnx import random_bundle

    from palette.streaming.onnx import OrtOptions, ort_stand_ins
    from palette.tts.options import SynthesisOptions
    from palette.tts.synthesizer import Synthesizer

    shapes = (1, draft + 1)
    lines = [
        "",
        f"## AR step (random real-size kalle stage), CUDA graphs for T in {shapes}",
        "",
        "| batch | T | plain ms/step | CUDA graph ms/step | max abs diff |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        bundle = random_bundle(Path(tmp))
        plain = ort_stand_ins(bundle, {}, None)[0]["kalle"][0]
        try:
            graphs = ort_stand_ins(bundle, {}, None, OrtOptions(cuda_graph=shapes))[0]["kalle"][0]
            for B in (1, 8):
                for T in shapes:
                    want, ms = timed_steps(plain.core, plain.config, B, T)
                    got, ms_graph = timed_steps(graphs.core, graphs.config, B, T)
                    diff = float((want - got).abs().max())
                    lines.append(f"| {B} | {T} | {ms:.3f} | {ms_graph:.3f} | {diff:.1e} |")
        except Exception as error:  # noqa: BLE001 - a refused capture is a result to report
            lines.append(f"\nCUDA graph capture failed: {type(error).__name__}: {error}")
        prompt = (ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip())
        text = "When the sunlight strikes raindrops in the air, they act as a prism."
        lines += ["", "| kalle synthesis | RTF plain step | RTF CUDA graphs |", "|---|---|---|"]
        for name, options in {
            "plain": SynthesisOptions(family="kalle", seed=0),
            f"relaxed speculative, K = {draft}, tau 0": SynthesisOptions(
                family="kalle", seed=0, speculative="relaxed", draft_tokens=draft, tau_lm=0.0
            ),
        }.items():
            cells = []
            for ort_options in (OrtOptions(), OrtOptions(cuda_graph=shapes)):
                try:
                    synth = Synthesizer.from_pretrained(
                        bundle.directory, runtime="onnx", ort_options=ort_options
                    )
                    voice = synth.encode_voice(*prompt)
                    synth.synthesize(text, voice, options=options)  # warm-up (and capture)
                    start = time.perf_counter()
                    audio = synth.synthesize(text, voice, options=options)
                    cells.append(f"{(time.perf_counter() - start) / audio.duration:.4f}")
                except Exception as error:  # noqa: BLE001
                    cells.append(f"failed: {type(error).__name__}")
            lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


if __name__ == "__main__":
    main()
