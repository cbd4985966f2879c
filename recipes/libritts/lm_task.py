"""The language-model stages (ar, nar, kalle, par, refine) as trainer tasks: model from the
config, batches from lhotse cut manifests written by ``recipes/libritts/prepare.py``."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import torch

from palette.codec.files import UserError
from palette.codec.registry import load_codec
from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig, load_checkpoint, save_checkpoint
from palette.models.frames import DiscreteFrames, GaussianFrames, discrete_from_gaussian
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.recipes.corpus.many_record import unshippable_speakers
from palette.recipes.libritts.lm_data import collate, load_cuts, read_durations, read_meta
from palette.recipes.libritts.speaker_features import load_table
from palette.recipes.libritts.trainer import Task

logger = logging.getLogger(__name__)
FAMILY = {
    "align": "align",
    "ar": "ar",
    "nar": "nar",
    "kalle": "kalle",
    "par": "par",
    "refine": "par",
}


def model_config(config, meta: dict, speaker_dim: int = 0) -> LMConfig:
    """LMConfig for a stage from the training config and the stored features' metadata
    (``speaker_dim``: the stored speaker embeddings' size, for ``--speaker``)."""
    family = FAMILY[config.stage]
    speaker = config.speaker != "none"
    if speaker and family not in ("par", "ar", "kalle"):
        raise UserError(
            f"--speaker is for the par, refine, ar and kalle stages, not {config.stage}"
        )
    core = TransformerConfig(dim=config.dim, layers=config.layers, heads=config.heads)
    latent_dim = meta.get("latent_dim", 0)
    depth = config.depth and family == "ar"
    if config.depth and not depth:
        raise UserError(f"--depth is for the ar stage, not {config.stage}")
    continuous = (
        depth
        or family == "kalle"
        or (family == "par" and config.latents)
        or (family == "align" and latent_dim > 0)
    )
    if continuous and not latent_dim:
        raise UserError(f"the {config.stage} stage needs a codec with latents")
    return LMConfig(
        family=family,
        num_symbols=len(meta["symbols"]["symbols"]),
        cardinality=meta.get("cardinality", 0) if depth or not continuous else 0,
        num_codebooks=meta.get("num_codebooks", 1),
        latent_dim=latent_dim if continuous else 0,
        patch=config.patch if family in ("ar", "kalle") else 1,
        ctc_weight=config.ctc_weight if family in ("ar", "kalle") else 0.0,
        noise_std=config.noise_std if continuous and family in ("kalle", "par") else 0.0,
        aligned=config.aligned and family in ("par", "ar", "kalle"),
        score_ratio=config.score_ratio if family == "par" else 0.1,
        draft_upsample=config.draft_upsample if family == "ar" else 0,
        draft_weight=config.draft_weight if family in ("ar", "kalle") else 0.0,
        draft_ahead=config.draft_ahead if family == "kalle" or depth else 0,
        draft_hidden=config.draft_hidden
        if config.draft_ahead and (family == "kalle" or depth)
        else 0,
        frame_dropout=config.frame_dropout if family in ("ar", "kalle") else 0.0,
        own_inputs=config.own_inputs if family in ("ar", "kalle") else 0.0,
        own_passes=config.own_passes if family in ("ar", "kalle") else 1,
        depth=depth,
        speaker_dim=speaker_dim if speaker else 0,
        speaker_dropout=config.speaker_dropout if speaker else 0.0,
        transformer=core,
    )


def warm_start(model: torch.nn.Module, directory: str, symbols: dict) -> list[str]:
    """Copy into ``model`` every tensor of the checkpoint in ``directory`` whose name and shape
    match (e.g. an AR stage started from the trained PAR stage: text embedding, transformer,
    phoneme-progress embedding, duration head); the rest keep their fresh initialisation.
    The checkpoint must use the same symbol table. -> the names copied."""
    saved, state = load_checkpoint(directory)
    if saved.get("symbols") != symbols:
        raise UserError(f"--warm-start {directory} was trained with another symbol table")
    own = model.state_dict()
    copied = [k for k, v in state.items() if k in own and own[k].shape == v.shape]
    if not copied:
        raise UserError(f"--warm-start {directory}: no tensor matches this stage's model")
    model.load_state_dict({k: state[k].to(own[k].dtype) for k in copied}, strict=False)
    fresh = sorted(set(own) - set(copied))
    logger.info(
        "warm start from %s: %d tensors copied (%.2f M values), %d new: %s",
        directory,
        len(copied),
        sum(own[k].numel() for k in copied) / 1e6,
        len(fresh),
        ", ".join(fresh),
    )
    return copied


def codes_from_gaussian(model: torch.nn.Module, directory: str, codec_name: str) -> bool:
    """An ar stage warm-started from a kalle stage, over a codec whose codes code its latents
    (latent RVQ): start the ar frame adapter from kalle's (``frames.discrete_from_gaussian``:
    code inputs as kalle's inputs for their vectors, logits as kalle's densities of them), so
    the copied backbone sees what it was trained on. -> whether it applied."""
    if not isinstance(getattr(model, "frames", None), DiscreteFrames):
        return False
    saved, state = load_checkpoint(directory)
    source_config = LMConfig.from_dict(saved["model"])
    if source_config.family != "kalle":
        return False
    rvq = getattr(load_codec(codec_name), "rvq", None)
    if rvq is None:
        return False
    source = GaussianFrames(
        source_config.latent_dim, source_config.patch, source_config.transformer.dim
    )
    prefix = "frames."
    source.load_state_dict(
        {k[len(prefix) :]: v.float() for k, v in state.items() if k.startswith(prefix)}
    )
    discrete_from_gaussian(model.frames, source, rvq.codebooks[0])
    logger.info("ar frame adapter started from %s's Gaussian over codebook 1", directory)
    return True


def train_only(model: torch.nn.Module, prefixes: str) -> int:
    """Freeze every parameter whose name starts with none of the comma-separated ``prefixes``
    (empty: train all). -> the values frozen."""
    if not prefixes:
        return 0
    keep = tuple(p.strip() for p in prefixes.split(",") if p.strip())
    named = dict(model.named_parameters())
    if not any(name.startswith(keep) for name in named):
        raise UserError(f"--train-only {prefixes}: no parameter of this stage starts with it")
    frozen = 0
    for name, param in named.items():
        param.requires_grad_(name.startswith(keep))
        frozen += 0 if param.requires_grad else param.numel()
    return frozen


def _aligned(durations: dict, cut) -> bool:
    return cut.id in durations


def _embedded(table, cut) -> bool:
    return cut.id in table.row


def _speaker_out(speakers: set[str], cut) -> bool:
    return cut.supervisions[0].speaker not in speakers


def unshippable(cuts) -> set[str]:
    """Speakers of the many-voice corpus the cuts' audio lives in whose sources may not ship."""
    audio = Path(next(iter(cuts)).recording.sources[0].source)
    return unshippable_speakers(audio.parent.parent)  # <split>/<speaker>/<chapter>/<file>


def shippable(cuts):
    """The cuts whose speakers' sources allow shipped weights (``--licence shippable``)."""
    return cuts.filter(partial(_speaker_out, unshippable(cuts)))


def lm_task(config) -> Task:
    meta = read_meta(config.manifests, config.codec)
    table = None
    if config.speaker != "none":
        table = load_table(config.manifests, config.codec)
    cfg = model_config(config, meta, table.dim if table is not None else 0)
    model = build_model(cfg)
    if cfg.depth:  # the depth head scores the codec's own code vectors
        rvq = getattr(load_codec(config.codec), "rvq", None)
        if rvq is None:
            raise UserError(f"--depth needs a codec whose codes code its latents; {config.codec}")
        model.frames.set_vectors(rvq.codebooks)
    if config.init:
        saved, state = load_checkpoint(config.init)
        if LMConfig.from_dict(saved["model"]) != cfg:
            raise UserError(
                f"--init {config.init} has a different model config than this stage: "
                f"{LMConfig.from_dict(saved['model'])} vs {cfg}"
            )
        model.load_state_dict(state)
        logger.info("initialised from %s", config.init)
    elif config.warm_start:
        warm_start(model, config.warm_start, meta["symbols"])
        codes_from_gaussian(model, config.warm_start, config.codec)
    frozen = train_only(model, config.train_only)
    logger.info(
        "%s: %.2f M parameters (%.2f M frozen)",
        config.stage,
        sum(p.numel() for p in model.parameters()) / 1e6,
        frozen / 1e6,
    )
    from lhotse.dataset import DynamicBucketingSampler

    cuts = load_cuts(config.manifests, config.codec, config.subset.split(","))
    durations = read_durations(config.manifests, config.codec) if cfg.aligned else None
    if durations is not None:  # cuts the aligner could not align are left out
        cuts = cuts.filter(partial(_aligned, durations))
    if table is not None:
        cuts = cuts.filter(partial(_embedded, table))
    if config.licence == "shippable":
        cuts = shippable(cuts)
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    # ranks must see the same number of batches: drop the ragged tail only under DDP
    sampler = DynamicBucketingSampler(
        cuts,
        max_duration=config.max_duration,
        shuffle=True,
        num_buckets=config.num_buckets,
        seed=config.loop.seed,
        world_size=world,
        rank=rank,
        drop_last=world > 1,
    )
    need_latents = cfg.latent_dim > 0
    speaker_rng = torch.Generator().manual_seed(config.loop.seed + 1)  # --speaker other draws

    def batches(epoch: int):
        sampler.set_epoch(epoch)
        for cut_batch in sampler:
            batch = collate(cut_batch, latents=need_latents, durations=durations)
            if table is not None:
                ids = [c.id for c in cut_batch]
                batch.speaker = table.batch(ids, config.speaker, speaker_rng)
            yield batch

    generator = torch.Generator().manual_seed(config.loop.seed)

    def loss_fn(m, batch: LMBatch):
        if cfg.family == "par":
            return m(
                batch, stage="refine" if config.stage == "refine" else "par", generator=generator
            )
        if cfg.family == "nar":
            return m(batch, generator=generator)
        return m(batch)

    def save_final(m, directory: Path):
        save_checkpoint(
            directory,
            m,
            {
                "model": cfg.to_dict(),
                "symbols": meta["symbols"],
                "codec": config.codec,
                "stage": config.stage,
            },
        )

    return Task(
        model=model, loss_fn=loss_fn, batches=batches, sampler=sampler, save_final=save_final
    )
