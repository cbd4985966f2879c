"""Training throughput and generation cost of the codec language models on this machine.

Same model size for every family, random weights (speed does not depend on training), fixed
lengths. Prints a markdown table and writes it to ``benchmarks/results/model_speed.md``.

    python benchmarks/model_speed.py --threads 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.loading import build_model
from palette.models.par_generate import PARGenerator, PAROptions, spread_durations
from palette.models.sampling import SamplingOptions
from palette.models.transformer import TransformerConfig

LATENT_PAR = {"cardinality": 0, "latent_dim": 32, "aligned": True, "score_ratio": 0.0}


def build(family: str, args, **kw):
    core = TransformerConfig(dim=args.dim, layers=args.layers, heads=args.heads)
    sizes = {"cardinality": 1000, "latent_dim": 32 if family == "kalle" else 0} | kw
    cfg = LMConfig(family=family, num_symbols=200, num_codebooks=4, transformer=core, **sizes)
    return build_model(cfg)


def fake_batch(args) -> LMBatch:
    B, T, N = args.batch, int(args.seconds * args.frame_rate), args.phonemes
    g = torch.Generator().manual_seed(0)
    return LMBatch(
        text=torch.randint(1, 200, (B, N), generator=g), text_lens=torch.full((B,), N),
        audio_lens=torch.full((B,), T), codes=torch.randint(0, 1000, (B, 4, T), generator=g),
        latent_mean=torch.randn(B, 32, T, generator=g), latent_logstd=torch.full((B, 32, T), -1.0),
        durations=spread_durations(torch.zeros(N), T).expand(B, N).contiguous(),
    )  # fmt: skip


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_rows(args) -> list[tuple]:
    batch = fake_batch(args)
    frames = int(batch.audio_lens.sum())
    rows = []
    for family, kw in [("ar", {}), ("ar", {"patch": 4}), ("kalle", {}), ("kalle", {"patch": 4}),
                       ("par", {}), ("par", LATENT_PAR), ("nar", {})]:  # fmt: skip
        model = build(family, args, **kw).train()
        opt = torch.optim.AdamW(model.parameters(), 1e-4)

        def step(model=model, opt=opt):
            loss = model(batch)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()  # warm-up
        t = median_time(step, args.repeats)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        name = family + (f" (patch {kw['patch']})" if "patch" in kw else "")
        name += " (latents, aligned)" if kw is LATENT_PAR else ""
        rows.append((name, f"{params:.1f} M", f"{frames / t:,.0f}"))
    return rows


def generation_rows(args) -> list[tuple]:
    T = int(args.gen_seconds * args.frame_rate)
    prompt_T = int(3 * args.frame_rate)
    text = torch.randint(1, 200, (args.phonemes,))
    rows = []
    for family, patch in [("ar", 1), ("ar", 4), ("kalle", 1), ("kalle", 4)]:
        model = build(family, args, patch=patch).eval()
        with torch.no_grad():  # never stop early: fixed length for timing
            if family == "ar":
                model.frames.head.bias.view(patch, -1)[:, -1] = -1e4
            else:
                model.frames.stop.bias.fill_(-1e4)
        prompt = (
            torch.randint(0, 1000, (prompt_T,)) if family == "ar" else torch.randn(32, prompt_T)
        )
        opts = SamplingOptions(top_p=0.9) if family == "ar" else GaussianSampling()
        for cache in (True, False):
            if not cache and patch > 1:
                continue

            def gen(model=model, prompt=prompt, opts=opts, cache=cache):
                return ARGenerator(model, text, prompt, T, opts, use_cache=cache).generate()

            t = median_time(gen, args.gen_repeats)
            rows.append((f"{family} patch {patch}", "KV cache" if cache else "full recompute",
                         T // patch, f"{t / args.gen_seconds:.3f}"))  # fmt: skip
    for kw in ({}, LATENT_PAR):
        par = build("par", args, **kw).eval()
        prompt = torch.randint(0, 1000, (prompt_T,)) if not kw else torch.randn(32, prompt_T)
        name = "par" + (" (latents, aligned)" if kw else "")
        for span in args.spans:

            def gen(span=span, par=par, prompt=prompt, kw=kw):
                g = PARGenerator(par, text, prompt, T, PAROptions(span=span, refine_iterations=0),
                                 target_start=args.phonemes // 2 if kw else None)  # fmt: skip
                g.generate()
                return g.steps

            t = median_time(gen, args.gen_repeats)
            passes = -(-T // span) + (1 if kw else 0)  # aligned: one duration pass first
            rows.append((name, f"span {span}", passes, f"{t / args.gen_seconds:.3f}"))
    return rows


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--frame-rate", type=float, default=50.0, help="codec frames per second")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0, help="training utterance length")
    p.add_argument("--phonemes", type=int, default=60)
    p.add_argument("--gen-seconds", type=float, default=2.0, help="audio generated per run")
    p.add_argument("--spans", type=int, nargs="+", default=[1, 4, 8, 16])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--gen-repeats", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/model_speed.md")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    text = [
        "# Codec LM speed",
        "",
        f"`python benchmarks/model_speed.py --threads {args.threads}` on {platform.processor() or platform.machine()}, "
        f"{args.threads} threads, torch {torch.__version__}. Model: dim {args.dim}, {args.layers} layers, "
        f"{args.heads} heads; {args.frame_rate:g} Hz frames; medians.",
        "",
        f"## Training throughput (batch {args.batch} x {args.seconds:g} s, {args.phonemes} phonemes)",
        "",
        table(["model", "params", "frames / s"], training_rows(args)),
        "",
        f"## Generation ({args.gen_seconds:g} s of audio after a 3 s prompt)",
        "",
        table(["model", "mode", "forward passes", "wall s per audio s"], generation_rows(args)),
        "",
    ]
    out = "\n".join(text)
    print(out)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(out)


if __name__ == "__main__":
    main()
