"""Adversarial fine-tune of a trained palette codec's decoder (HiFi-GAN-style discriminators).

    python -m palette.recipes.libritts.finetune_codec --corpus DIR/train-clean-100 \\
        --init exp/codec/final --out exp/codec-gan --minutes 40

Starts from the codec in ``--init`` and trains only its decoder side (``decoder``,
``fsq.proj_out``, ``gaussian.proj_out``): the encoder and the bottlenecks' input projections stay
frozen, so codes and latents of the fine-tuned codec equal the initial codec's and features
extracted with it stay valid. ``--decoder-blocks`` / ``--vocoder-blocks`` first deepen the
decoder (:func:`palette.codec.grow.deepen`: added blocks start as the identity, so the
fine-tune starts from the trained codec's exact output) for more decoder capacity on the same
latents. Each step: the batch goes through the codec as in
:mod:`~recipes.libritts.train_codec` (half Gaussian latents, half FSQ codes with quantiser
dropout); the loss is ``spectral_weight`` x (multi-resolution log-mel + log-magnitude L1 +
spectral convergence) + ``adversarial_weight`` x least-squares GAN + ``feature_weight`` x
feature matching, plus the discriminators' own least-squares loss.

One optimiser serves both players: the generator's adversarial and feature-matching terms read
the discriminators through detached parameters (``torch.func.functional_call``) and the
discriminators' loss reads the detached reconstruction, so one backward pass gives each player
exactly its own gradients. The shared loop (:mod:`recipes.libritts.trainer`) then brings
progress, ``OUT/log.csv``, resumable ``OUT/checkpoint.pt`` (codec and discriminators; rerun the
same command) and ``OUT/final`` (the codec alone, float16) unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call

from palette.codec.discriminators import (
    DiscriminatorConfig,
    Discriminators,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
)
from palette.codec.files import UserError, run_reporting_user_errors
from palette.codec.grow import deepen
from palette.codec.losses import SpectralLoss
from palette.codec.palette_codec import PaletteCodec
from palette.recipes.corpus.many_record import LICENCES
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts.train_codec import (
    CodecTrainConfig,
    CropSampler,
    continuous_items,
    initial_codec,
)
from palette.recipes.libritts.trainer import LoopOptions, Task, train

logger = logging.getLogger(__name__)
FROZEN = ("encoder.", "fsq.proj_in.", "gaussian.proj_in.")  # what fixes the codes and latents


@dataclass(frozen=True)
class CodecGanConfig:
    init: str  # trained codec directory (config.json + model.safetensors)
    data: CodecTrainConfig  # corpus, exp, crops, bottleneck mix, loop (its codec field unused)
    spectral_weight: float = 15.0
    adversarial_weight: float = 1.0
    feature_weight: float = 2.0
    discriminators: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    decoder_blocks: int = 0  # deepen the decoder's stack to this many blocks (0: as in init)
    vocoder_blocks: int = 0  # deepen the vocoder's stack to this many blocks (0: as in init)


class CodecGan(nn.Module):
    """The codec (generator, encoder side frozen) and its discriminators, trained together."""

    def __init__(self, codec: PaletteCodec, discriminators: Discriminators):
        super().__init__()
        self.codec, self.discriminators = codec, discriminators
        for name, p in codec.named_parameters():
            p.requires_grad_(not name.startswith(FROZEN))

    def losses(
        self, wav: torch.Tensor, spectral: SpectralLoss, config: CodecGanConfig
    ) -> dict[str, torch.Tensor]:
        """One step's losses for ``wav [B, 1, S]``: ``loss`` (both players) and its parts."""
        continuous = continuous_items(self.codec.config, wav.shape[0], config.data)
        continuous = continuous.to(wav.device)
        recon, _ = self.codec(wav, continuous, config.data.quantizer_dropout)
        parts = spectral(recon, wav)
        real = self.discriminators(wav)
        disc = discriminator_loss(real, self.discriminators(recon.detach()))
        frozen = {n: p.detach() for n, p in self.discriminators.named_parameters()}
        fake = functional_call(self.discriminators, frozen, (recon,))
        adv, fm = generator_loss(fake), feature_matching_loss(real, fake)
        generator = (
            config.spectral_weight * (parts["mel"] + parts["logmag"] + parts["sc"])
            + config.adversarial_weight * adv
            + config.feature_weight * fm
        )
        return {"loss": generator + disc, **parts, "adv": adv, "fm": fm, "disc": disc}


def gan_task(config: CodecGanConfig) -> Task:
    """The fine-tune as a :class:`~recipes.libritts.trainer.Task` for the shared loop."""
    codec = initial_codec(config.init)
    if codec is None:
        raise UserError("the adversarial fine-tune starts from a trained codec: give --init DIR")
    codec = deepen(codec, config.decoder_blocks, config.vocoder_blocks)
    data = dataclasses.replace(config.data, codec=codec.config)
    crop = int(data.crop_seconds * codec.sample_rate)
    crop -= crop % codec.hop_length
    sampler = CropSampler(data.corpus, codec.sample_rate, crop, data.loop.seed, data.licence)
    torch.manual_seed(data.loop.seed)
    model = CodecGan(codec, Discriminators(config.discriminators))
    spectral = SpectralLoss(codec.sample_rate)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info(
        "codec GAN: %.2f M trainable parameters (decoder + discriminators); corpus %d files, %.2f h",
        trainable / 1e6,
        len(sampler.files),
        sampler.hours,
    )

    def batches(epoch: int):
        for _ in range(data.epoch_steps):
            yield sampler.batch(data.batch_size, data.gain_db)

    def loss_fn(m: nn.Module, wav: torch.Tensor) -> dict[str, torch.Tensor]:
        return getattr(m, "module", m).losses(wav, spectral.to(wav.device), config)

    def save_final(m: nn.Module, directory: Path) -> None:
        getattr(m, "module", m).codec.save_pretrained(directory, dtype=torch.float16)

    return Task(
        model=model, loss_fn=loss_fn, batches=batches, sampler=sampler, save_final=save_final
    )


def run(config: CodecGanConfig) -> dict:
    """Fine-tune (or resume) and write ``EXP/final``; returns the last logged row of losses."""
    exp = Path(config.data.exp)
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "train_config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    return train(gan_task(config), exp, config.data.loop)


@dataclass(frozen=True)
class CodecGanFlags:
    """The command line of ``finetune_codec``."""

    corpus: str  # folder with **/*.wav (e.g. LibriTTS/train-clean-100)
    init: str  # trained codec directory to start from (e.g. exp/codec/final), or palette-codec
    out: str  # experiment folder (checkpoint, log.csv, final/)
    minutes: float = 40.0  # wall-clock budget of this run
    max_steps: int = 3000  # optimiser steps, also the schedule's length
    threads: int = 2  # torch CPU threads
    batch_size: int = 8  # 1-s crops per step
    lr: float = 2e-4  # peak AdamW learning rate (both players)
    spectral_weight: float = CodecGanConfig.spectral_weight
    adversarial_weight: float = CodecGanConfig.adversarial_weight
    feature_weight: float = CodecGanConfig.feature_weight
    ckpt_minutes: float = 5.0  # minutes between checkpoints
    seed: int = 0  # seeds the discriminators and the crops
    decoder_blocks: int = 0  # deepen the decoder to this many blocks first (0: keep init's)
    vocoder_blocks: int = 0  # deepen the vocoder to this many blocks first (0: keep init's)
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.libritts.finetune_codec",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, CodecGanFlags, choices={"licence": LICENCES})
    args = from_args(CodecGanFlags, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)

    def finetune():
        loop = LoopOptions(
            lr=args.lr,
            warmup_steps=100,
            max_steps=args.max_steps,
            max_minutes=args.minutes,
            ckpt_minutes=args.ckpt_minutes,
            seed=args.seed,
            log_every=20,
        )
        data = CodecTrainConfig(
            corpus=args.corpus,
            exp=args.out,
            batch_size=args.batch_size,
            licence=args.licence,
            loop=loop,
        )
        config = CodecGanConfig(
            init=args.init,
            data=data,
            spectral_weight=args.spectral_weight,
            adversarial_weight=args.adversarial_weight,
            feature_weight=args.feature_weight,
            decoder_blocks=args.decoder_blocks,
            vocoder_blocks=args.vocoder_blocks,
        )
        row = run(config)
        logger.info("finished: %s; codec in %s", row, Path(args.out) / "final")

    return run_reporting_user_errors("finetune_codec", finetune)


if __name__ == "__main__":
    raise SystemExit(main())
