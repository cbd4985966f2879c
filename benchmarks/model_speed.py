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

from palette.codec import FrameKind
from palette.models.alignment import spread_durations
from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.families import FAMILIES, SentenceRequest
from palette.models.families.ar import ARFamily
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.tts.options import SynthesisOptions, resolve_options

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
        text=torch.randint(1, 200, (B, N), generator=g),
        text_lens=torch.full((B,), N),
        audio_lens=torch.full((B,), T),
        codes=torch.randint(0, 1000, (B, 4, T), generator=g),
        latent_mean=torch.randn(B, 32, T, generator=g),
        latent_logstd=torch.full((B, 32, T), -1.0),
        durations=spread_durations(torch.zeros(N), T).expand(B, N).contiguous(),
    )


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
    for family, kw in [
        ("ar", {}),
        ("ar", {"patch": 4}),
        ("kalle", {}),
        ("kalle", {"patch": 4}),
        ("par", {}),
        ("par", LATENT_PAR),
        ("nar", {}),
    ]:
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


def _request(args, kind: FrameKind, target_tokens: int) -> SentenceRequest:
    """A 3 s prompt and ``args.phonemes`` text ids, the last ``target_tokens`` the target."""
    prompt_T = int(3 * args.frame_rate)
    text = torch.randint(1, 200, (args.phonemes,), generator=torch.Generator().manual_seed(0))
    codes = torch.randint(0, 1000, (1, prompt_T)) if kind is FrameKind.CODES else None
    latents = torch.randn(32, prompt_T) if kind is FrameKind.LATENTS else None
    return SentenceRequest(text, args.phonemes - target_tokens, codes, latents, args.frame_rate)


def _timed_pieces(family, request, models, options, repeats: int) -> tuple[float, int]:
    """Median wall seconds of one sentence through the family's own chain, and its frames."""
    frames = 0

    def run():
        nonlocal frames
        frames = sum(p.shape[-1] for p in family.pieces(request, models, options, whole=True))

    return median_time(run, repeats), frames


def generation_rows(args) -> list[tuple]:
    """Each family through its pipeline (``palette.models.families``), as synthesis runs it;
    the AR families also with full recompute, the reference the KV cache must equal."""
    rows = []
    for name, patch in [("ar", 1), ("ar", 4), ("kalle", 1), ("kalle", 4)]:
        family = FAMILIES[name]
        model = build(name, args, patch=patch).eval()
        with torch.no_grad():  # never stop early: the length cap ends every run
            if name == "ar":
                model.frames.head.bias.view(patch, -1)[:, -1] = -1e4
            else:
                model.frames.stop.bias.fill_(-1e4)
        # as many target phonemes as make the AR length cap (models.generate.length_cap) T
        target = max(1, round((args.gen_seconds - 1.0) / 0.25))
        request = _request(args, family.frame_kind({name: model}), target)
        options = resolve_options(SynthesisOptions(family=name), {})
        t, frames = _timed_pieces(family, request, {name: model}, options, args.gen_repeats)
        seconds = frames / args.frame_rate
        rows.append(
            (f"{name} patch {patch}", "KV cache", -(-frames // patch), f"{t / seconds:.3f}")
        )
        if patch == 1:
            prompt = request.prompt_frames(family.frame_kind({name: model}))
            prompt = prompt[0] if name == "ar" else prompt
            sampling = ARFamily.sampling(options) if name == "ar" else GaussianSampling(0.8)

            def full(model=model, prompt=prompt, sampling=sampling, text=request.text, n=frames):
                return ARGenerator(model, text, prompt, n, sampling, use_cache=False).generate()

            t = median_time(full, args.gen_repeats)
            rows.append((f"{name} patch 1", "full recompute", frames, f"{t / seconds:.3f}"))
    for kw in ({}, LATENT_PAR):
        models = {"par": build("par", args, **kw).eval()}
        family = FAMILIES["par"]
        request = _request(args, family.frame_kind(models), args.phonemes // 2)
        label = "par" + (" (latents, aligned)" if kw else "")
        for span in args.spans:
            options = resolve_options(
                SynthesisOptions(family="par", span=span, duration=args.gen_seconds), {}
            )
            t, frames = _timed_pieces(family, request, models, options, args.gen_repeats)
            passes = -(-frames // span) + (1 if kw else 0)  # aligned: one duration pass first
            rows.append((label, f"span {span}", passes, f"{t / args.gen_seconds:.3f}"))
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
