"""One training entry for every stage of palette-tts.

    # one process (CPU here)
    python -m palette.recipes.libritts.train --stage ar --manifests data/manifests --exp exp/ar
    # many GPUs (or several CPU processes with gloo)
    torchrun --nproc-per-node=8 -m palette.recipes.libritts.train --stage par --manifests ... --exp exp/par
    # stage two of PALLE starts from stage one's weights
    python -m palette.recipes.libritts.train --stage refine --init exp/par/final --exp exp/refine ...

Stages: ``codec`` (our codec, on the wavs under ``--corpus``; ``train_codec`` has more options),
``align`` (the CTC aligner whose durations ``recipes.libritts.durations`` stores for ``--aligned``
PAR models), ``ar``, ``nar``, ``kalle``, ``par``, ``refine``.
Options come from ``--config file.yaml`` (keys of ``TrainConfig``) and are overridden by flags.
Rerunning the same command resumes from ``EXP/checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

from palette.codec import DEFAULT_CODEC
from palette.codec.files import UserError, run_reporting_user_errors
from palette.recipes.corpus.many_record import LICENCES
from palette.recipes.flags import add_flags
from palette.recipes.libritts.trainer import LoopOptions, Task, train

STAGES = ("codec", "align", "ar", "nar", "kalle", "par", "refine")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    stage: str = "ar"  # one of STAGES
    manifests: str = "data/libritts-prep"  # output folder of recipes/libritts/run.sh (prepare.py)
    exp: str = "exp/ar"  # checkpoints, log.csv and final weights go here
    subset: str = "train-clean-100"  # cut manifest(s) to train on, comma-separated
    codec: str = DEFAULT_CODEC  # codec whose codes/latents were stored by prepare
    corpus: str = ""  # codec stage: folder of training wavs (e.g. LibriTTS/train-clean-100)
    init: str = ""  # start from these weights (refine: the PAR model's final dir)
    warm_start: str = (
        ""  # copy the same-named, same-shaped tensors of these weights (ar/kalle: the PAR stage)
    )
    dim: int = 256  # transformer width
    layers: int = 6
    heads: int = 4
    patch: int = 1  # codec frames per step (ar, kalle)
    ctc_weight: float = 0.1  # auxiliary CTC loss (ar, kalle)
    noise_std: float = 0.1  # kalle (and par --latents) input-noise augmentation
    frame_dropout: float = 0.0  # ar, kalle: probability of zeroing a step's frame input
    own_inputs: float = 0.0  # ar, kalle: probability that a step's input is the model's own draw
    # (scheduled sampling against exposure bias; costs one extra forward pass per batch)
    own_passes: int = 1  # ar, kalle with --own-inputs: draw passes (each from the last one's mix)
    latents: bool = False  # par/refine: predict the codec's Gaussian latents instead of codes
    aligned: bool = False  # par, refine, ar, kalle: frame-aligned phonemes + duration head
    score_ratio: float = 0.1  # par: scored frames after the mask start, fraction of T (0 = all)
    draft_upsample: int = (
        0  # ar: CTC draft head frames per phoneme for self-speculative decoding (0 = none)
    )
    draft_weight: float = 0.3  # ar, kalle: weight of the draft head's loss
    draft_ahead: int = 0  # kalle, aligned: steps the Gaussian draft head predicts ahead (0 = none)
    draft_hidden: int = 0  # with --draft-ahead: the draft head's hidden width (0: --dim)
    depth: bool = False  # ar over a latent-RVQ codec: every codebook through a residual depth
    # head over a Gaussian (warm-start it from a kalle stage; no NAR stage then)
    train_only: str = ""  # comma-separated parameter-name prefixes to train (e.g. "frames."):
    # everything else keeps its (warm-start) values; empty = train all
    speaker: str = "none"  # par, refine, ar, kalle: global speaker embedding (speaker_features.py):
    # none, utterance (the cut's own) or other (another cut of the same speaker)
    speaker_dropout: float = 0.1  # with --speaker: share of embeddings zeroed in training
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights
    # (the many-voice corpus's MANY_CORPUS.json; leaves out MBROLA and FOTAQ)
    max_duration: float = 60.0  # seconds of audio per batch (lhotse DynamicBucketingSampler)
    num_buckets: int = 10
    loop: LoopOptions = field(default_factory=LoopOptions)


def load_config(path: str | None, overrides: dict) -> TrainConfig:
    data = yaml.safe_load(Path(path).read_text()) if path else {}
    data = (data or {}) | {k: v for k, v in overrides.items() if v is not None}
    loop_fields = {f.name for f in dataclasses.fields(LoopOptions)}
    loop = LoopOptions(**{k: data.pop(k) for k in list(data) if k in loop_fields})
    unknown = set(data) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise UserError(f"unknown training options: {', '.join(sorted(unknown))}")
    config = TrainConfig(**data, loop=loop)
    if config.stage not in STAGES:
        raise UserError(f"unknown stage {config.stage!r}; one of {', '.join(STAGES)}")
    return config


def build_task(config: TrainConfig) -> Task:
    if config.stage == "codec":
        from palette.recipes.libritts.train_codec import CodecTrainConfig, codec_task

        if not config.corpus:
            raise UserError("the codec stage needs --corpus DIR (a folder of training wavs)")
        return codec_task(CodecTrainConfig(corpus=config.corpus, exp=config.exp, loop=config.loop))
    from palette.recipes.libritts.lm_task import lm_task

    return lm_task(config)


def run(config: TrainConfig) -> dict:
    task = build_task(config)
    Path(config.exp).mkdir(parents=True, exist_ok=True)
    (Path(config.exp) / "train_config.json").write_text(
        json.dumps(dataclasses.asdict(config), indent=2)
    )
    return train(task, config.exp, config.loop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help="YAML file with TrainConfig / LoopOptions keys")
    add_flags(
        parser,
        TrainConfig,
        skip=("loop",),
        choices={
            "stage": STAGES,
            "speaker": ("none", "utterance", "other"),
            "licence": LICENCES,
        },
    )
    add_flags(parser, LoopOptions)
    args = vars(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))

    def train_stage():
        row = run(load_config(args.pop("config"), args))
        logger.info("finished: %s", row)

    return run_reporting_user_errors("train", train_stage)


if __name__ == "__main__":
    raise SystemExit(main())
