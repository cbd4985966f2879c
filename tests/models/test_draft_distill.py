"""The draft head's distillation stage: rollouts read back what greedy decoding did, the rows pair
each anchor with the model's Gaussian k steps later, the head learns them, and the written model
decodes exactly as before (only its draft head differs)."""

import copy
import json

import pytest
import torch

from palette.models.codec_lm import CodecLM
from palette.models.config import save_checkpoint
from palette.models.draft_distill import (
    DraftRows,
    acceptance,
    accepted_prefix,
    distillation_loss,
    greedy_rollout,
)
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.loading import load_model
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator
from palette.recipes.libritts.distill_draft import (
    DistillOptions,
    initial_head,
    train_head,
    write_model,
)

from .conftest import tiny_config

LENGTH = 14


@pytest.fixture(scope="module")
def kalle():
    torch.manual_seed(0)
    return CodecLM(tiny_config("kalle", aligned=True, draft_ahead=3)).eval()


def _inputs(seed: int):
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(1, 20, (9,), generator=g)
    durations = torch.tensor([0, 0, 0, 0, 3, 2, 4, 1, 4])  # LENGTH frames after the prompt
    return text, torch.randn(4, 5, generator=g), durations


def _rollouts(model, n=4):
    rollouts = []
    for seed in range(n):
        text, prompt, durations = _inputs(seed)
        rollouts.append(greedy_rollout(model, text, prompt, LENGTH, durations))
    return rollouts


def test_rollout_reads_back_the_greedy_decoding(kalle):
    text, prompt, durations = _inputs(0)
    frames = ARGenerator(kalle, text, prompt, LENGTH, GaussianSampling(0.0), durations=durations)
    frames = frames.generate()  # [D, T]
    r = greedy_rollout(kalle, text, prompt, LENGTH, durations)
    assert r.states.shape == (LENGTH, 64) and r.phones.shape == (LENGTH, 64)
    # at temperature 0 each generated frame is the mean of the Gaussian its state predicted
    torch.testing.assert_close(r.mean[:, 0].T, frames, atol=1e-5, rtol=0)


def test_rows_pair_each_anchor_with_the_step_k_later(kalle):
    rollouts = _rollouts(kalle, 2)
    rows = DraftRows.from_rollouts(rollouts, ahead=3)
    assert len(rows) == 2 * sum(LENGTH - k for k in (1, 2, 3))
    i = int(torch.nonzero((rows.offsets == 2) & (rows.anchor == LENGTH + 5))[0])  # rollout 1, s=5
    torch.testing.assert_close(rows.states[i], rollouts[1].states[5])
    torch.testing.assert_close(rows.phones[i], rollouts[1].phones[7])
    torch.testing.assert_close(rows.mean[i], rollouts[1].mean[7])


def test_accepted_prefix_stops_at_the_first_rejection():
    anchor = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2])
    offsets = torch.tensor([1, 2, 3, 1, 2, 3, 2, 1])
    kept = torch.tensor([True, False, True, True, True, True, True, False])
    assert accepted_prefix(anchor, offsets, kept).tolist() == [1, 3, 0]


def test_distillation_teaches_the_head_the_models_own_predictions(kalle, tmp_path):
    rows = DraftRows.from_rollouts(_rollouts(kalle), ahead=3)
    head = CodecLM(tiny_config("kalle", aligned=True, draft_ahead=3)).gaussian_draft
    before = float(distillation_loss(head, rows).detach())
    options = DistillOptions(model="unused", steps=300, batch_rows=256, lr=3e-3)
    log = train_head(head, rows, options)
    assert log[-1]["kl"] < 0.5 * log[0]["kl"]
    assert float(distillation_loss(head, rows).detach()) < 0.5 * before
    kept = acceptance(head.eval(), rows, (0.5,))[0.5]
    assert set(kept["kept_by_offset"]) == {1, 2, 3} and 0 <= kept["accepted"] <= 3


def test_written_model_decodes_as_before_with_only_its_head_replaced(kalle, tmp_path):
    half = copy.deepcopy(kalle).half()
    source = save_checkpoint(tmp_path / "src", half, {"model": kalle.config.to_dict()})
    torch.manual_seed(5)
    head = CodecLM(
        tiny_config("kalle", aligned=True, draft_ahead=5, draft_hidden=96)
    ).gaussian_draft
    out = write_model(source, head, tmp_path / "out")
    config = json.loads((out / "config.json").read_text())["model"]
    assert (config["draft_ahead"], config["draft_hidden"]) == (5, 96)
    old, _ = load_model(source)
    new, _ = load_model(out)
    for name, tensor in old.state_dict().items():
        if not name.startswith("gaussian_draft."):
            assert torch.equal(new.state_dict()[name], tensor), name
    torch.testing.assert_close(new.gaussian_draft.offset.weight, head.offset.weight.half().float())
    text, prompt, durations = _inputs(1)
    args = (text, prompt, LENGTH, GaussianSampling(0.0))
    plain = [ARGenerator(m, *args, durations=durations).generate() for m in (old, new)]
    torch.testing.assert_close(plain[0], plain[1], atol=0, rtol=0)
    spec = SpeculativeGaussianGenerator(
        new, *args, SpeculativeOptions("relaxed", 5, tau_lm=0.0), durations=durations
    )
    assert spec.generate().shape == plain[1].shape and spec.accepted > 0


def test_a_longer_head_starts_from_the_models_with_its_last_offset_repeated(kalle):
    options = DistillOptions(model="unused", hidden=0)
    head = initial_head(kalle, 5, options)
    old = kalle.gaussian_draft.offset.weight
    torch.testing.assert_close(head.offset.weight[:3], old)
    torch.testing.assert_close(head.offset.weight[3:], old[2:].expand(2, -1))
    fresh = initial_head(kalle, 3, DistillOptions(model="unused", fresh=True, hidden=0))
    assert not torch.equal(fresh.net[0].weight, kalle.gaussian_draft.net[0].weight)
    wide = initial_head(kalle, 3, DistillOptions(model="unused", hidden=96))
    assert wide.net[0].out_features == 96 and torch.equal(wide.offset.weight, old)
    same = initial_head(kalle, 3, options)
    assert same is not kalle.gaussian_draft and torch.equal(
        same.net[0].weight, kalle.gaussian_draft.net[0].weight
    )
