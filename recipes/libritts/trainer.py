"""The training loop every stage shares: DDP (gloo on CPU, nccl on GPU), gradient
accumulation, mixed precision on GPU, time/step budgets, CSV log, progress bar, and checkpoints
with exact resume (model, optimiser, scheduler, sampler, step, RNG state).

Checkpoints hold only tensors and plain Python values (the numpy RNG state is stored as a
tensor) and are read with ``torch.load(weights_only=True)``: resuming never unpickles arbitrary
objects. Checkpoints written before that (numpy arrays inside) still load: numpy's array
reconstruction is the one extra type allowed.

A stage supplies a ``Task``: the model, a function from a batch to a dict of losses, and an
iterable of batches whose sampler has ``state_dict``/``load_state_dict`` (lhotse's samplers do).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from palette.codec.files import UserError, atomic_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopOptions:
    lr: float = 1e-3  # peak learning rate (AdamW)
    weight_decay: float = 0.01
    warmup_steps: int = 200  # linear warm-up, then cosine decay to 10 % at max_steps
    max_steps: int = 20000  # optimiser steps
    max_minutes: float = 0.0  # stop after this much wall time (0 = no limit)
    accum: int = 1  # micro-batches per optimiser step
    grad_clip: float = 1.0
    log_every: int = 20  # optimiser steps between CSV rows
    ckpt_minutes: float = 5.0  # wall minutes between checkpoints
    seed: int = 0


@dataclass
class Task:
    model: torch.nn.Module
    loss_fn: Callable[
        [torch.nn.Module, object], dict[str, torch.Tensor]
    ]  # (model, batch) -> losses
    batches: Callable[[int], Iterable]  # epoch -> batches (sets the sampler's epoch)
    sampler: object | None = None  # has state_dict()/load_state_dict() for exact resume
    save_final: Callable[[torch.nn.Module, Path], None] | None = None  # export weights


def setup_distributed() -> tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment; plain python -> (0, 1, cpu/cuda)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(device)
    return rank, world, device


def warmup_cosine(warmup_steps: int, max_steps: int, floor: float = 0.1):
    """Learning-rate factor per step: linear warm-up, then cosine decay to ``floor`` at
    ``max_steps`` (a ``LambdaLR`` lambda)."""

    def f(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def _lr_lambda(opts: LoopOptions):
    return warmup_cosine(opts.warmup_steps, opts.max_steps)


def _rng_state() -> dict:
    """The three global RNG states as tensors and plain values (``weights_only``-loadable)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    numpy_state = {
        "kind": kind,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    if isinstance(numpy_state, dict):
        n = numpy_state
        numpy_state = (
            n["kind"],
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["gauss"],
        )
    np.random.set_state(numpy_state)
    random.setstate(state["python"])


def _numpy_array_types() -> list:
    """What older checkpoints need to rebuild numpy arrays (no code runs but numpy's own)."""
    multiarray = getattr(np, "_core", None) or np.core
    return [multiarray.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def load_checkpoint(path: Path, device: torch.device) -> dict:
    """Read a training checkpoint without unpickling arbitrary objects; a damaged or foreign
    file is a ``UserError`` naming it."""
    try:
        with torch.serialization.safe_globals(_numpy_array_types()):
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        detail = " ".join(str(err).split())[:200]
        raise UserError(
            f"cannot resume from checkpoint {path} ({type(err).__name__}: {detail}); "
            "move it away to start over"
        ) from None
    missing = {"model", "optim", "sched", "step", "epoch", "rng"} - set(
        state if isinstance(state, dict) else ()
    )
    if missing:
        raise UserError(
            f"checkpoint {path} is not a training checkpoint (missing {', '.join(sorted(missing))})"
        )
    return state


def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` atomically (a unique temporary name beside ``path``, then a rename)."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def train(task: Task, exp_dir: str | os.PathLike, opts: LoopOptions) -> dict:
    """Train until ``max_steps`` or ``max_minutes``; resume from ``exp_dir/checkpoint.pt`` if it
    exists. Returns the last logged row."""
    rank, world, device = setup_distributed()
    exp_dir = Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(opts.seed)
    random.seed(opts.seed)
    np.random.seed(opts.seed)
    model = task.model.to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    optim = torch.optim.AdamW(model.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, _lr_lambda(opts))
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    step, epoch, resumed_epoch = 0, 0, None
    ckpt = exp_dir / "checkpoint.pt"
    if ckpt.exists():
        state = load_checkpoint(ckpt, device)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step, epoch = state["step"], state["epoch"]
        resumed_epoch = epoch
        if task.sampler is not None and state.get("sampler") is not None:
            task.sampler.load_state_dict(state["sampler"])
        _set_rng_state(state["rng"])
        logger.info("resumed from %s at step %d", ckpt, step)

    def checkpoint():
        if rank != 0:
            return
        state = {
            "model": model.state_dict(),
            "optim": optim.state_dict(),
            "sched": sched.state_dict(),
            "step": step,
            "epoch": epoch,
            "rng": _rng_state(),
            "sampler": task.sampler.state_dict() if task.sampler is not None else None,
            "options": asdict(opts),
        }
        save_checkpoint(ckpt, state)

    log_path = exp_dir / "log.csv"
    start, last_ckpt, row = time.monotonic(), time.monotonic(), {}
    bar = tqdm(total=opts.max_steps, initial=step, disable=rank != 0, desc="train", unit="step")
    sums, count, micro = {}, 0, 0
    model.train()
    done = step >= opts.max_steps
    while not done:
        batches_this_epoch = 0
        for batch in task.batches(epoch):
            batches_this_epoch += 1
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                losses = task.loss_fn(ddp, _to(batch, device))
            scaler.scale(losses["loss"] / opts.accum).backward()
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            count, micro = count + 1, micro + 1
            if micro % opts.accum:
                continue
            scaler.unscale_(optim)
            torch.nn.utils.clip_grad_norm_(model.parameters(), opts.grad_clip)
            scaler.step(optim)
            scaler.update()
            optim.zero_grad(set_to_none=True)
            sched.step()
            step += 1
            bar.update(1)
            if step % opts.log_every == 0 or step == opts.max_steps:
                row = {
                    "step": step,
                    "epoch": epoch,
                    "minutes": round((time.monotonic() - start) / 60, 2),
                    "lr": sched.get_last_lr()[0],
                } | {k: v / count for k, v in sums.items()}
                bar.set_postfix(loss=f"{row['loss']:.3f}")
                if rank == 0:
                    _append_csv(log_path, row)
                sums, count = {}, 0
            out_of_time = opts.max_minutes and time.monotonic() - start > opts.max_minutes * 60
            if step >= opts.max_steps or out_of_time:
                done = True
                break
            if time.monotonic() - last_ckpt > opts.ckpt_minutes * 60:
                checkpoint()
                last_ckpt = time.monotonic()
        else:
            if batches_this_epoch == 0 and epoch != resumed_epoch:  # a resumed epoch may be spent
                raise RuntimeError(
                    f"epoch {epoch} produced no batches: the training data is "
                    "empty or smaller than one batch"
                )
            epoch += 1
    bar.close()
    checkpoint()
    if rank == 0 and task.save_final is not None:
        task.save_final(model, exp_dir / "final")
    if world > 1:
        dist.barrier()
    return row


def _to(batch, device):
    if device.type == "cpu":
        return batch
    if hasattr(batch, "__dataclass_fields__"):
        return type(batch)(
            **{k: _to(getattr(batch, k), device) for k in batch.__dataclass_fields__}
        )
    return batch.to(device) if isinstance(batch, torch.Tensor) else batch


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
