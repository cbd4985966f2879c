"""What makes the default PAR path fast on 2 CPU cores: one lever at a time.

    palette export palette-mini-en --out exp/palette-mini-en-onnx
    python benchmarks/par_levers.py --model exp/palette-mini-en-onnx

End to end (``Synthesizer.synthesize`` over ``onnx_speed.SENTENCES``, the demo prompt encoded
once, PyTorch): RTF and transformer forward passes for PAR spans 32 and whole-sentence (3,000),
refinement passes 2 / 1 / 0, float32 and bfloat16 autocast. One PAR forward at a typical
sentence's shapes (text 178, frames 544) on PyTorch with 1 and 2 threads, fp32 and bf16, and
on onnxruntime with idle threads sleeping or spinning, fp32 and dynamically quantised int8
weights (``onnxruntime.quantization.quantize_dynamic``; with its largest output difference).
Writes ``benchmarks/results/par_levers.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_speed import ROOT, SENTENCES, median_ms, stage_rows  # noqa: E402

from palette.models.precision import set_compute_dtype  # noqa: E402
from palette.tts.options import SynthesisOptions  # noqa: E402
from palette.tts.synthesizer import Synthesizer  # noqa: E402

CONFIGS = [  # (span, refine_iterations, bf16)
    (32, 2, False),
    (3000, 2, False),
    (3000, 1, False),
    (3000, 0, False),
    (32, 2, True),
    (3000, 2, True),
    (3000, 1, True),
]


def end_to_end(synth, voice) -> list[tuple]:
    passes = [0]

    def count(*_):
        passes[0] += 1

    for model in synth.models.values():
        model.core.register_forward_hook(count)
    rows = []
    for span, refine, bf16 in CONFIGS:
        for model in synth.models.values():
            set_compute_dtype(model, torch.bfloat16 if bf16 else None)
        options = SynthesisOptions(span=span, refine_iterations=refine)
        synth.synthesize(SENTENCES[1], voice, options=options)  # warm-up
        passes[0], wall, seconds = 0, 0.0, 0.0
        for sentence in SENTENCES:
            start = time.perf_counter()
            audio = synth.synthesize(sentence, voice, options=options)
            wall += time.perf_counter() - start
            seconds += audio.duration
        rows.append((span, refine, "bf16" if bf16 else "fp32", passes[0], wall / seconds))
    return rows


def forward_rows(model_dir: str, synth, voice, repeats: int) -> list[tuple]:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rows = []
    for threads in (1, 2):
        for bf16 in (False, True):
            torch.set_num_threads(threads)
            set_compute_dtype(synth.models["par"], torch.bfloat16 if bf16 else None)
            ms = stage_rows({"torch": synth}, voice, repeats)[0][1]
            rows.append((f"PyTorch, {threads} thread(s), {'bf16' if bf16 else 'fp32'}", ms, None))
    torch.set_num_threads(2)
    set_compute_dtype(synth.models["par"], None)
    feed, reference = par_feed(synth, voice)
    graph = Path(model_dir) / "onnx" / "par.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        int8 = Path(tmp) / "par_int8.onnx"
        quantize_dynamic(str(graph), str(int8), weight_type=QuantType.QInt8)
        for path, weights in ((graph, "fp32"), (int8, "int8")):
            for spin in (False, True):
                so = ort.SessionOptions()
                so.intra_op_num_threads, so.inter_op_num_threads = 2, 1
                so.add_session_config_entry("session.intra_op.allow_spinning", str(int(spin)))
                session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
                out = session.run(None, feed)
                ms = median_ms(lambda s=session: s.run(None, feed), repeats)
                diff = max(float(np.abs(o - r).max()) for o, r in zip(out, reference, strict=True))
                name = f"onnxruntime, 2 threads {'spinning' if spin else 'sleeping'}, {weights}"
                rows.append((name, ms, diff))
    return rows


def par_feed(synth, voice):
    """The PAR graph's inputs at ``stage_rows``' shapes and PyTorch's outputs for them."""
    captured = {}
    model = synth.models["par"]
    original = model.logits

    def spy(*args):
        captured["args"] = args
        return original(*args)

    model.logits = spy
    try:
        stage_rows({"torch": synth}, voice, 1)
    finally:
        del model.logits
    names = ("text", "text_lens", "frames", "audio_lens", "masked", "phone_index", "progress")
    feed = {n: a.numpy() for n, a in zip(names, captured["args"], strict=True)}
    with torch.inference_mode():
        reference = [o.numpy() for o in original(*captured["args"])]
    return feed, reference


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="exp/palette-mini-en-onnx", help="exported model dir")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/par_levers.md"))
    args = p.parse_args()
    torch.set_num_threads(2)
    synth = Synthesizer.from_pretrained(args.model, runtime="torch", precision="fp32")
    prompt = (ROOT / "demos/prompt.wav", (ROOT / "demos/prompt.txt").read_text().strip())
    voice = synth.encode_voice(*prompt)
    e2e = end_to_end(synth, voice)
    forwards = forward_rows(args.model, synth, voice, args.repeats)
    lines = [
        "# Levers of the default PAR path (2 CPU cores)",
        "",
        f"Made by `python benchmarks/par_levers.py {' '.join(sys.argv[1:])}` (torch "
        f"{torch.__version__}); what is measured: the script's docstring.",
        "",
        f"## End to end, PyTorch ({len(SENTENCES)} sentences, prompt encoded once)",
        "",
        "| span | refine passes | precision | transformer passes | RTF |",
        "|---|---|---|---|---|",
        *(f"| {s} | {r} | {p} | {n} | {rtf:.3f} |" for s, r, p, n, rtf in e2e),
        "",
        "## One PAR forward (text 178, frames 544)",
        "",
        "| engine | ms (median) | largest output difference to PyTorch fp32 |",
        "|---|---|---|",
        *(f"| {n} | {ms:.1f} | {'–' if d is None else f'{d:.2e}'} |" for n, ms, d in forwards),
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
