"""New Kokoro voices from its five style packs, each described by a short spec string.

A Kokoro style vector has 256 dims: the first 128 condition the decoder (timbre), the last 128
the prosody predictor (durations, pitch, energy). Specs:

- ``pack jf_alpha`` — a pack as shipped;
- ``mix jf_alpha:0.6,jm_kumo:0.4`` — a weighted sum of packs (weights sum to 1);
- ``swap jf_alpha/jm_kumo`` — timbre half of the first pack, prosody half of the second;
- ``sample 17 1.75`` — a Gaussian sample around the packs' mean: ``mean + z * std`` per
  dimension (statistics over the five packs at each length row), with one ``z ~ N(0, 1)``
  vector (seeded by the first number) clipped to +-1.75 (the second), shared by every row.
  Beyond about 2.5 sigma speech breaks; the corpus's screening keeps a sample only if it is
  intelligible and distinct (``recipes.corpus.screen``).

Specs are the voices' names in the corpus manifest, so a style is rebuilt from its spec alone.
"""

from __future__ import annotations

import itertools
import random

import numpy as np

from palette.recipes.corpus import kokoro

TIMBRE_DIMS = 128


def style(spec: str) -> np.ndarray:
    """Spec -> style ``[510, 256]`` float32 (see the module doc)."""
    packs = kokoro.packs()
    kind, _, arg = spec.partition(" ")
    if kind == "pack":
        return packs[arg]
    if kind == "mix":
        total = np.zeros_like(next(iter(packs.values())))
        for item in arg.split(","):
            name, _, weight = item.partition(":")
            total += float(weight) * packs[name]
        return total
    if kind == "swap":
        timbre, _, prosody = arg.partition("/")
        out = packs[prosody].copy()
        out[:, :TIMBRE_DIMS] = packs[timbre][:, :TIMBRE_DIMS]
        return out
    if kind == "sample":
        seed, limit = arg.split()
        stack = np.stack(list(packs.values()))  # [P, 510, 256]
        z = np.random.default_rng(int(seed)).standard_normal(stack.shape[-1])
        z = np.clip(z, -float(limit), float(limit)).astype(np.float32)
        return stack.mean(axis=0) + z * stack.std(axis=0)
    raise ValueError(f"unknown Kokoro style spec {spec!r}")


def candidate_specs(seed: int = 0, swaps: int = 10, mixes: int = 8, samples: int = 40) -> list[str]:
    """Every pack, ``swaps`` timbre/prosody swaps (seeded choice of the 20 ordered pairs),
    ``mixes`` random two- and three-pack mixes and ``samples`` Gaussian samples (clip 1.5-2
    sigma), in this order."""
    rng = random.Random(seed)
    names = list(kokoro.PACKS)
    specs = [f"pack {n}" for n in names]
    pairs = list(itertools.permutations(names, 2))
    specs += [f"swap {a}/{b}" for a, b in rng.sample(pairs, min(swaps, len(pairs)))]
    for _ in range(mixes):
        chosen = rng.sample(names, rng.choice((2, 3)))
        weights = [rng.uniform(0.2, 1.0) for _ in chosen]
        total = sum(weights)
        parts = [f"{n}:{w / total:.3f}" for n, w in zip(chosen, weights, strict=True)]
        specs.append("mix " + ",".join(parts))
    specs += [f"sample {rng.randrange(10**6)} {rng.uniform(1.5, 2.0):.2f}" for _ in range(samples)]
    return specs
