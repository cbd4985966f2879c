"""Second stage of a kalle model's self-speculative draft head: distilled on the model's own
greedy decoding, every other weight frozen (``palette.models.draft_distill``).

    python -m palette.recipes.libritts.distill_draft --model exp/kalle/final \\
        --manifests data/libritts-prep --out exp/kalle-draft

Pairs a prompt cut with a target cut of the same training speaker (as synthesis pairs a voice
prompt with a sentence), decodes each target greedily with the stored durations and the
prompt's speaker embedding, and keeps what the head needs (``OUT/rollouts/part-*.pt``, written
atomically every ``--chunk`` pairs; a rerun decodes only the missing parts). Then trains the head
on 95 % of the rollouts and reports, on the other 5 %, the share of drafts that relaxed decoding
would keep before and after. ``OUT/final`` is the model directory with only the draft head
replaced (``--ahead`` may change how many steps it drafts); ``OUT/distill.json`` has the
numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from palette.codec import DEFAULT_CODEC
from palette.codec.files import (
    UserError,
    atomic_path,
    atomic_write,
    run_reporting_user_errors,
    write_text_atomic,
)
from palette.models.draft_distill import (
    DraftRows,
    Rollout,
    acceptance,
    distillation_loss,
    greedy_rollout,
)
from palette.models.frames import GaussianDraft
from palette.models.loading import load_model
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts.lm_data import load_cuts, phoneme_ids, read_durations
from palette.recipes.libritts.lm_task import shippable
from palette.recipes.libritts.speaker_features import load_table
from palette.recipes.libritts.trainer import warmup_cosine
from palette.tts.symbols import SymbolTable

logger = logging.getLogger(__name__)
TAUS = (0.9, 0.8, 0.7)


@dataclass(frozen=True)
class DistillOptions:
    model: str  # the kalle stage directory whose draft head is distilled (a final/ folder)
    out: str = "exp/kalle-draft"  # rollouts, the report and final/ go here
    manifests: str = "data/libritts-prep"  # prepare.py's output folder (features, durations)
    codec: str = DEFAULT_CODEC  # codec whose features were stored
    subset: str = "train-clean-100"  # parts the pairs are drawn from (comma-separated)
    licence: str = "any"  # any, or shippable: only voices whose sources allow shipped weights
    pairs: int = 1200  # prompt/target pairs decoded
    chunk: int = 100  # pairs per stored part (the unit a rerun resumes at)
    max_target_seconds: float = 10.0  # longest target cut
    prompt_seconds: float = 8.0  # longest prompt cut (at least 2 s)
    ahead: int = 8  # steps the new head drafts (0: as many as the model's head)
    fresh: bool = False  # start the head from scratch instead of from the model's (whose offsets
    # beyond its own ahead start as its last one)
    hidden: int = 1024  # hidden width of the new head (0: the model's head's)
    steps: int = 8000  # optimiser steps of the head
    batch_rows: int = 4096  # (anchor, offset) rows per step
    lr: float = 1e-3  # peak learning rate (cosine decay, 100 warm-up steps)
    seed: int = 0  # pairs, batches and a fresh head's initialisation


def draw_pairs(cuts, table, durations, options: DistillOptions) -> list[tuple]:
    """-> ``pairs`` (prompt cut, target cut) of one speaker each, seeded."""
    by_speaker: dict[str, list] = {}
    for cut in cuts:
        if cut.id in durations and cut.id in table.row:
            by_speaker.setdefault(cut.supervisions[0].speaker, []).append(cut)
    rng = random.Random(options.seed)
    speakers = sorted(s for s, c in by_speaker.items() if len(c) > 1)
    if not speakers:
        raise UserError("no training speaker has two aligned, embedded cuts to pair")
    out, tries = [], 0
    while len(out) < options.pairs and tries < 100 * options.pairs:
        tries += 1
        group = by_speaker[rng.choice(speakers)]
        prompt, target = rng.sample(group, 2)
        if 2.0 <= prompt.duration <= options.prompt_seconds and (
            target.duration <= options.max_target_seconds
        ):
            out.append((prompt, target))
    if not out:
        raise UserError("no cut pair fits --prompt-seconds and --max-target-seconds")
    return out


def pair_rollout(model, pair, table, durations, symbols: SymbolTable):
    """Greedy rollout of one (prompt, target) pair laid out as synthesis lays it out: prompt
    phonemes, a word separator, target phonemes; zero durations before the target."""
    prompt, target = pair
    prompt_ids, target_ids = phoneme_ids(prompt, symbols), phoneme_ids(target, symbols)
    head = prompt_ids + symbols.encode([" "])
    text = torch.tensor(head + target_ids)
    d = torch.tensor([0] * len(head) + durations[target.id])
    latents = torch.from_numpy(prompt.load_latent_mean()).T.float()  # [D, Tp]
    speaker = table.for_cut(prompt.id)[None].float()
    return greedy_rollout(model, text, latents, int(d.sum()), d, speaker)


def collect(model, options: DistillOptions) -> list:
    """Rollouts of every pair, read from the stored parts or decoded and stored."""
    cuts = load_cuts(options.manifests, options.codec, options.subset.split(","))
    if options.licence == "shippable":
        cuts = shippable(cuts)
    table = load_table(options.manifests, options.codec)
    durations = read_durations(options.manifests, options.codec)
    pairs = draw_pairs(cuts, table, durations, options)
    symbols, folder, rollouts = SymbolTable.default(), Path(options.out) / "rollouts", []
    chunks = range(0, len(pairs), options.chunk)
    for first in tqdm(chunks, desc="rollout parts", unit="part"):
        path = folder / f"part-{first // options.chunk:04d}.pt"
        if not path.is_file():
            part = [
                pair_rollout(model, p, table, durations, symbols)
                for p in tqdm(pairs[first : first + options.chunk], desc="decode", leave=False)
            ]
            with atomic_path(path) as tmp:
                torch.save([asdict(r) for r in part], tmp)
        rollouts += torch.load(path)
    return [Rollout(**r) for r in rollouts]


def initial_head(model, ahead: int, options: DistillOptions) -> GaussianDraft:
    """The head to train: fresh (seeded), or the model's, with ``ahead`` offsets (further ones
    starting as the last one it had) and ``options.hidden`` units (another width: a fresh net)."""
    cfg, old = model.config, model.gaussian_draft
    hidden = options.hidden or old.net[0].out_features
    torch.manual_seed(options.seed)
    head = GaussianDraft(cfg.latent_dim, cfg.patch, cfg.transformer.dim, ahead, hidden)
    if options.fresh:
        return head
    if hidden == old.net[0].out_features:
        head.net.load_state_dict(old.net.state_dict())
    with torch.no_grad():
        head.offset.weight.copy_(old.offset.weight[torch.arange(ahead).clamp(max=old.ahead - 1)])
    return head


def train_head(head: GaussianDraft, rows: DraftRows, options: DistillOptions) -> list[dict]:
    """AdamW on the head alone over random row batches; -> the loss log (every 100 steps)."""
    optim = torch.optim.AdamW(head.parameters(), lr=options.lr, weight_decay=0.0)
    schedule = warmup_cosine(100, options.steps, floor=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, schedule)
    gen = torch.Generator().manual_seed(options.seed)
    log, running = [], 0.0
    head.train()
    for step in tqdm(range(options.steps), desc="distil", unit="step"):
        batch = rows.take(torch.randint(len(rows), (options.batch_rows,), generator=gen))
        loss = distillation_loss(head, batch)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
        running += float(loss.detach())
        if (step + 1) % 100 == 0:
            log.append({"step": step + 1, "kl": running / 100})
            running = 0.0
    return log


def write_model(source: Path, head: GaussianDraft, out: Path) -> Path:
    """``source``'s directory with the draft head replaced (stored in the dtype the source's
    head had) and ``draft_ahead``/``draft_hidden`` set to the head's."""
    state = load_file(str(source / "model.safetensors"))
    dtype = state["gaussian_draft.offset.weight"].dtype
    state = {k: v for k, v in state.items() if not k.startswith("gaussian_draft.")}
    for name, tensor in head.state_dict().items():
        state[f"gaussian_draft.{name}"] = tensor.detach().to(dtype).contiguous()
    config = json.loads((source / "config.json").read_text())
    hidden = head.net[0].out_features
    config["model"]["draft_ahead"] = head.ahead
    config["model"]["draft_hidden"] = 0 if hidden == head.offset.embedding_dim else hidden
    atomic_write(out / "model.safetensors", lambda p: save_file(state, str(p)))
    write_text_atomic(out / "config.json", json.dumps(config, indent=2, ensure_ascii=False))
    return out


def distil(options: DistillOptions) -> dict:
    model, _ = load_model(options.model)
    if model.discrete or model.gaussian_draft is None or not model.config.aligned:
        raise UserError(f"{options.model}: needs an aligned kalle model with a Gaussian draft head")
    for p in model.parameters():
        p.requires_grad_(False)
    cfg = model.config
    ahead = options.ahead or cfg.draft_ahead
    rollouts = collect(model, options)
    cut = max(1, len(rollouts) // 20)
    train = DraftRows.from_rollouts(rollouts[cut:], ahead)
    valid = DraftRows.from_rollouts(rollouts[:cut], ahead)
    head = initial_head(model, ahead, options)
    own = DraftRows.from_rollouts(rollouts[:cut], cfg.draft_ahead)  # the offsets it was made for
    before = acceptance(model.gaussian_draft, own, TAUS)
    for p in head.parameters():
        p.requires_grad_(True)
    logger.info(
        "%d rollouts, %d training rows, %d held-out rows", len(rollouts), len(train), len(valid)
    )
    log = train_head(head, train, options)
    head.eval()
    report = {
        "options": asdict(options),
        "rollouts": len(rollouts),
        "rows": {"train": len(train), "valid": len(valid)},
        "before": before,
        "after": acceptance(head, valid, TAUS),
        "valid_kl": float(distillation_loss(head, valid).detach()),
        "log": log,
    }
    out = Path(options.out)
    write_model(Path(options.model), head, out / "final")
    write_text_atomic(out / "distill.json", json.dumps(report, indent=2))
    logger.info("after: %s", json.dumps(report["after"]))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, DistillOptions, choices={"licence": ("any", "shippable")})
    options = from_args(DistillOptions, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_reporting_user_errors("distill_draft", lambda: distil(options) and 0)


if __name__ == "__main__":
    raise SystemExit(main())
