"""Train the palette codec on the wavs of a LibriTTS-layout corpus, on a CPU in under an hour.

    python -m palette.recipes.libritts.train_codec --corpus DIR/train-clean-100 --out exp/codec --minutes 50

Audio: every ``**/*.wav`` under ``--corpus`` (LibriTTS layout
``<subset>/<spk>/<chapter>/<spk>_<chapter>_<par>_<sent>.wav``, 24 kHz 16-bit mono; other rates
are resampled). Speakers that a many-voice corpus manifest (``MANY_CORPUS.json`` in the folder or
above it) marks ``codec_training: false`` (band-limited recordings) are left out. Each step draws ``batch_size`` random crops of ``crop_seconds`` (files weighted
by length, random gain), sends part of the batch through the Gaussian bottleneck and the rest
through residual FSQ (with quantiser dropout), and minimises multi-resolution log-mel L1 +
log-magnitude L1 + spectral convergence, plus ``kl_weight`` x KL for the Gaussian items.

The loop is the shared one (:mod:`recipes.libritts.trainer`): tqdm progress, ``OUT/log.csv``,
``OUT/checkpoint.pt`` every few minutes with exact resume (rerun the same command; the time
budget counts per run), and at the end ``OUT/final/model.safetensors`` + ``config.json``
(atomic writes; float16 weights, 5 MB), a directory that ``codec.load_codec`` reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from palette.codec.files import UserError, UserFileNotFoundError, run_reporting_user_errors
from palette.codec.grow import grow
from palette.codec.losses import SpectralLoss
from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.recipes.corpus.many_record import LICENCES, many_speakers, unshippable_speakers
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts.trainer import LoopOptions, Task, train
from palette.tts.audio import resample

logger = logging.getLogger(__name__)
# optimiser steps per second of the default codec, batch 16 x 1 s, 2 threads: 5.0 measured on an
# idle 2-core machine, 2.7 with other jobs running. It sets the cosine schedule's length from the
# time budget when --max-steps is not given (a slower machine stops before the LR has decayed)
STEPS_PER_SECOND = 4.5


@dataclass(frozen=True)
class CodecTrainConfig:
    corpus: str  # folder searched for **/*.wav
    exp: str = "exp/codec"  # checkpoint.pt, log.csv and final/ (the trained codec) go here
    batch_size: int = 16  # crops per step
    crop_seconds: float = 1.0  # crop length (rounded down to whole codec frames)
    continuous_fraction: float = 0.5  # share of each batch sent through the Gaussian bottleneck
    quantizer_dropout: float = 0.5  # chance that an FSQ item keeps only a random 1..Q first stages
    kl_weight: float = 1e-3  # weight of KL(posterior || N(0, I)), summed over latent dims
    gain_db: tuple[float, float] = (-9.0, 3.0)  # random gain range of the crops (augmentation)
    epoch_steps: int = 1000  # batches per epoch (crops are random; epochs only number the log)
    codec: PaletteCodecConfig = field(default_factory=PaletteCodecConfig)
    loop: LoopOptions = field(default_factory=LoopOptions)
    init: str = ""  # codec directory or registered name to start from (its sizes win); "": fresh
    grow: bool = False  # with init: grow it into ``codec``'s sizes (palette.codec.grow.grow)
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights
    # (the many-voice corpus's MANY_CORPUS.json; leaves out MBROLA and FOTAQ)


def excluded_speakers(corpus: str | Path, licence: str = "any") -> set[str]:
    """Speaker ids marked ``codec_training: false`` by the corpus manifest above ``corpus``,
    and with ``licence`` ``shippable`` those whose sources may not ship."""
    speakers = many_speakers(corpus) or []
    out = {str(s["speaker_id"]) for s in speakers if not s.get("codec_training", True)}
    return out | (unshippable_speakers(corpus) if licence == "shippable" else set())


class CropSampler:
    """Random crops ``[B, 1, S]`` of the wavs under a folder; its state makes resume exact."""

    def __init__(
        self, corpus: str | Path, sample_rate: int, crop: int, seed: int = 0, licence: str = "any"
    ):
        excluded = excluded_speakers(corpus, licence)
        files = sorted(Path(corpus).glob("**/*.wav"))
        self.files = [f for f in files if f.name.split("_")[0] not in excluded]
        if excluded:
            logger.info(
                "%d files of band-limited (or, licence %s, unshippable) speakers left out",
                len(files) - len(self.files),
                licence,
            )
        if not self.files:
            raise UserFileNotFoundError(f"no .wav files under {corpus}")
        self.sample_rate, self.crop = sample_rate, crop
        infos = [sf.info(f) for f in tqdm(self.files, desc="scan wavs", unit="file", leave=False)]
        self.rates = np.array([i.samplerate for i in infos])
        self.lengths = np.array([i.frames for i in infos])
        self.weights = self.lengths / self.lengths.sum()
        self.rng = np.random.default_rng(seed)

    @property
    def hours(self) -> float:
        return float((self.lengths / self.rates).sum() / 3600)

    def _crop(self, index: int) -> np.ndarray:
        rate = int(self.rates[index])
        span = int(np.ceil(self.crop * rate / self.sample_rate))
        start = int(self.rng.integers(0, max(1, self.lengths[index] - span + 1)))
        wav, _ = sf.read(
            self.files[index], start=start, frames=span, dtype="float32", always_2d=True
        )
        wav = resample(wav.mean(axis=1), rate, self.sample_rate)[: self.crop]
        return np.pad(wav, (0, self.crop - len(wav)))

    def batch(self, size: int, gain_db: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
        """``size`` crops ``[size, 1, crop]``, each scaled by a random gain (peak kept <= 1)."""
        picks = self.rng.choice(len(self.files), size=size, p=self.weights)
        gains = 10 ** (self.rng.uniform(*gain_db, size=size) / 20)
        crops = []
        for index, gain in zip(picks, gains, strict=True):
            wav = self._crop(int(index)) * gain
            crops.append(wav / max(1.0, float(np.abs(wav).max())))
        return torch.from_numpy(np.stack(crops)).float()[:, None]

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]


def continuous_items(codec: PaletteCodecConfig, B: int, config: CodecTrainConfig) -> torch.Tensor:
    """Which of ``B`` batch items go through the Gaussian bottleneck (bool ``[B]``, the last
    ``continuous_fraction`` of the batch; at least one item per mode when the codec has both)."""
    if codec.latent_dim == 0:
        n_cont = 0
    elif not codec.trains_codes:  # no codes, or the latent RVQ (fitted after training)
        n_cont = B
    else:
        n_cont = min(B - 1, max(1, round(B * config.continuous_fraction)))
    return torch.arange(B) >= B - n_cont


def codec_loss(
    model: torch.nn.Module, spectral: SpectralLoss, wav: torch.Tensor, config: CodecTrainConfig
) -> dict[str, torch.Tensor]:
    """One training pass over ``wav [B, 1, S]`` -> ``loss`` and its parts (scalars)."""
    continuous = continuous_items(config.codec, wav.shape[0], config).to(wav.device)
    recon, kl = model(wav, continuous, config.quantizer_dropout)
    parts = spectral(recon, wav)
    kl = kl[continuous].mean() if continuous.any() else kl.new_zeros(())
    loss = parts["mel"] + parts["logmag"] + parts["sc"] + config.kl_weight * kl
    return {"loss": loss, **parts, "kl": kl}


def initial_codec(init: str) -> PaletteCodec | None:
    """The codec a warm start begins from (``init`` a directory or ``palette-codec``), or None."""
    if not init:
        return None
    if init == "palette-codec":
        from palette.codec.registry import PALETTE_WEIGHTS

        init = str(PALETTE_WEIGHTS)
    return PaletteCodec.from_pretrained(init)  # a clear error when the weights are missing


def codec_task(config: CodecTrainConfig) -> Task:
    """The codec as a :class:`~recipes.libritts.trainer.Task` for the shared training loop."""
    if not isinstance(config, CodecTrainConfig):
        raise UserError(
            "the codec trains from a corpus folder of wavs: run "
            "`python -m palette.recipes.libritts.train_codec --corpus DIR --out EXP`"
        )
    init = initial_codec(config.init)
    codec_config = init.config if init is not None and not config.grow else config.codec
    crop = int(config.crop_seconds * codec_config.sample_rate)
    crop -= crop % codec_config.hop_length
    if crop <= 0:
        raise UserError(f"crop_seconds {config.crop_seconds} is shorter than one codec frame")
    sampler = CropSampler(
        config.corpus, codec_config.sample_rate, crop, config.loop.seed, config.licence
    )
    torch.manual_seed(config.loop.seed)  # the same initial weights on every fresh run
    model = PaletteCodec(codec_config)
    if init is not None and config.grow:
        model, fresh = grow(init, codec_config)
        logger.info("grown from %s: %d tensors start fresh: %s", config.init, len(fresh), fresh)
    elif init is not None:
        model.load_state_dict({k: v.float() for k, v in init.state_dict().items()})
    spectral = SpectralLoss(codec_config.sample_rate)
    logger.info(
        "codec: %.2f M parameters, %.0f Hz, %d x %d codes (%.0f bit/s), %d latent dims; "
        "corpus: %d files, %.2f h",
        model.num_parameters() / 1e6,
        model.frame_rate,
        model.num_codebooks,
        model.cardinality,
        codec_config.bitrate,
        model.latent_dim,
        len(sampler.files),
        sampler.hours,
    )

    def batches(epoch: int):
        for _ in range(config.epoch_steps):
            yield sampler.batch(config.batch_size, config.gain_db)

    def loss_fn(m: torch.nn.Module, wav: torch.Tensor) -> dict[str, torch.Tensor]:
        return codec_loss(m, spectral.to(wav.device), wav, config)

    def save_final(m: torch.nn.Module, directory: Path) -> None:
        m.save_pretrained(
            directory, dtype=torch.float16
        )  # half the size; the checkpoint keeps fp32

    return Task(
        model=model, loss_fn=loss_fn, batches=batches, sampler=sampler, save_final=save_final
    )


def run(config: CodecTrainConfig) -> dict:
    """Train (or resume) and write ``EXP/final``; returns the last logged row of losses."""
    exp = Path(config.exp)
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "train_config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    return train(codec_task(config), exp, config.loop)


@dataclass(frozen=True)
class CodecTrainFlags:
    """The command line of ``train_codec`` (its own defaults for a CPU run)."""

    corpus: str  # folder with **/*.wav (e.g. LibriTTS/train-clean-100)
    out: str  # experiment folder (checkpoint, log.csv, final/)
    minutes: float = 50.0  # wall-clock budget of this run
    max_steps: int | None = (
        None  # optimiser steps, also the schedule's length (None: minutes x 60 x STEPS_PER_SECOND)
    )
    threads: int = 2  # torch CPU threads
    batch_size: int = 16  # 1-s crops per step
    lr: float = 2e-3  # peak AdamW learning rate
    kl_weight: float = CodecTrainConfig.kl_weight  # weight of the Gaussian latents' KL term
    ckpt_minutes: float = 5.0  # minutes between checkpoints
    codec_config: str | None = None  # JSON file with PaletteCodecConfig fields (sizes) to override
    init: str = ""  # warm start from a codec dir or palette-codec (grown into --codec-config's sizes if given)
    seed: int = 0  # seeds weights and crops
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.libritts.train_codec",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, CodecTrainFlags, choices={"licence": LICENCES})
    args = from_args(CodecTrainFlags, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)

    def train_codec():
        codec = PaletteCodecConfig()
        if args.codec_config:
            codec = PaletteCodecConfig.from_dict(json.loads(Path(args.codec_config).read_text()))
        max_steps = args.max_steps or max(1, int(args.minutes * 60 * STEPS_PER_SECOND))
        loop = LoopOptions(
            lr=args.lr,
            max_steps=max_steps,
            max_minutes=args.minutes,
            ckpt_minutes=args.ckpt_minutes,
            seed=args.seed,
            log_every=20,
        )
        config = CodecTrainConfig(
            corpus=args.corpus,
            exp=args.out,
            batch_size=args.batch_size,
            kl_weight=args.kl_weight,
            licence=args.licence,
            codec=codec,
            loop=loop,
            init=args.init,
            grow=bool(args.init and args.codec_config),
        )
        row = run(config)
        logger.info("finished: %s; codec in %s", row, Path(args.out) / "final")

    return run_reporting_user_errors("train_codec", train_codec)


if __name__ == "__main__":
    raise SystemExit(main())
