"""Give a trained palette codec discrete codes of its Gaussian latent: a residual vector
quantiser (``code_source`` ``"latent"``) whose codebooks are fitted by k-means (scikit-learn)
on the posterior means of random crops of a corpus.

The codec's encoder, latent posterior and decoder are copied unchanged (the latent stages
trained on it stay valid); only the code path is replaced. Codes decode through the latent
path, so every added stage brings the code round trip closer to the latent round trip::

    python -m palette.recipes.libritts.fit_codes --corpus data/many-codec/train-clean-100 \\
        --codec palette-codec --out exp/codec-rvq --licence shippable

``OUT/fit.json`` records the residual error after each stage (mean squared, per latent
dimension, on the fitted frames and on held-out frames).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC
from palette.codec.files import UserError, run_reporting_user_errors, write_text_atomic
from palette.codec.palette_codec import PaletteCodec
from palette.codec.registry import load_codec
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts.train_codec import CropSampler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitCodesOptions:
    """What :func:`fit_codes` fits and where it writes."""

    corpus: str  # folder of training wavs (LibriTTS layout, e.g. data/many-codec/train-clean-100)
    out: str  # codec directory to write (config.json, model.safetensors, fit.json)
    codec: str = DEFAULT_CODEC  # trained palette codec (name or directory) whose latents are coded
    codebooks: int = 8  # residual stages (Q)
    size: int = 1024  # vectors per codebook (the codes' cardinality)
    frames: int = 300_000  # posterior-mean frames the k-means fits (50 Hz: 100 min of audio)
    held_out: int = 20_000  # further frames that only measure the residual error
    crop_seconds: float = 4.0  # length of each random crop
    iterations: int = 60  # k-means iterations per stage (Lloyd)
    seed: int = 0
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights
    dtype: str = "float16"  # stored weights (float16: the shipped codec; float32)


@torch.inference_mode()
def latent_frames(codec: PaletteCodec, sampler: CropSampler, count: int) -> torch.Tensor:
    """Posterior means of random crops, ``[count, D]`` (float32)."""
    out, have = [], 0
    with tqdm(total=count, desc="latents", unit="frame", unit_scale=True) as bar:
        while have < count:
            wav = sampler.batch(8)  # [8, 1, S]
            mean, _ = codec.encode_latents(wav)  # [8, D, T]
            frames = mean.transpose(1, 2).reshape(-1, mean.shape[1])
            out.append(frames)
            have += len(frames)
            bar.update(min(len(frames), count - bar.n))
    return torch.cat(out)[:count]


def fit_rvq(
    x: torch.Tensor, stages: int, size: int, iterations: int, seed: int
) -> tuple[torch.Tensor, list[float]]:
    """Residual k-means on ``x [N, D]`` -> (codebooks ``[stages, size, D]``, mean squared
    residual per dimension after each stage)."""
    from sklearn.cluster import KMeans

    if len(x) < size:
        raise UserError(f"{len(x)} frames cannot fit {size} vectors per codebook")
    rest = x.double().numpy()
    books, errors = [], []
    for stage in tqdm(range(stages), desc="codebooks", unit="stage"):
        km = KMeans(size, n_init=1, max_iter=iterations, random_state=seed + stage)
        labels = km.fit_predict(rest)
        centres = km.cluster_centers_
        rest = rest - centres[labels]
        books.append(torch.from_numpy(centres).float())
        errors.append(float(np.mean(rest**2)))
        logger.info("stage %d: residual %.5f per dimension", stage + 1, errors[-1])
    return torch.stack(books), errors


def residual_errors(codec: PaletteCodec, x: torch.Tensor) -> list[float]:
    """Mean squared residual per dimension of ``x [N, D]`` after each of ``codec``'s stages."""
    z = x.T[None]  # [1, D, N]
    _, codes = codec.rvq.quantize(z)
    return [
        float((z - codec.rvq.lookup(codes[:, :q])).square().mean())
        for q in range(1, codec.rvq.stages + 1)
    ]


def with_codes(codec: PaletteCodec, codebooks: torch.Tensor) -> PaletteCodec:
    """A copy of ``codec`` whose codes are the latent RVQ with ``codebooks [Q, K, D]``; every
    other tensor is the source's (the old code path's are dropped)."""
    if codec.gaussian is None:
        raise UserError("the codec has no Gaussian latents to code")
    Q, K, _ = codebooks.shape
    config = dataclasses.replace(
        codec.config, code_source="latent", num_codebooks=Q, codebook_size=K
    )
    model = PaletteCodec(config)
    state = {k: v for k, v in codec.state_dict().items() if not k.startswith(("fsq.", "rvq."))}
    state["rvq.codebooks"] = codebooks
    model.load_state_dict(state)
    return model.eval()


def fit_codes(options: FitCodesOptions) -> dict:
    codec = load_codec(options.codec)
    if not isinstance(codec, PaletteCodec):
        raise UserError(f"{options.codec}: latent codes need a palette codec")
    if options.dtype not in ("float16", "float32"):
        raise UserError(f"--dtype must be float16 or float32, not {options.dtype}")
    torch.manual_seed(options.seed)
    crop = int(options.crop_seconds * codec.sample_rate)
    sampler = CropSampler(
        options.corpus, codec.sample_rate, crop, options.seed, licence=options.licence
    )
    x = latent_frames(codec.eval(), sampler, options.frames + options.held_out)
    fit, held = x[: options.frames], x[options.frames :]
    books, errors = fit_rvq(fit, options.codebooks, options.size, options.iterations, options.seed)
    model = with_codes(codec, books)
    report = {
        "options": asdict(options),
        "latent_variance": float(fit.var(0).mean()),
        "residual_fit": errors,
        "residual_held_out": residual_errors(model, held) if len(held) else [],
        "hours_sampled": len(x) / codec.frame_rate / 3600,
    }
    out = Path(options.out)
    model.save_pretrained(out, dtype=getattr(torch, options.dtype))
    write_text_atomic(out / "fit.json", json.dumps(report, indent=2) + "\n")
    logger.info("latent codes (%d x %d) -> %s", options.codebooks, options.size, out)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, FitCodesOptions, choices={"licence": ("any", "shippable")})
    options = from_args(FitCodesOptions, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_reporting_user_errors("fit_codes", lambda: fit_codes(options) and 0)


if __name__ == "__main__":
    raise SystemExit(main())
