"""Training checkpoints resume without unpickling arbitrary objects."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from palette.codec.files import UserError
from palette.recipes.libritts.trainer import LoopOptions, load_checkpoint, train

sys.path.insert(0, str(Path(__file__).parent))
from toy_training import toy_task  # noqa: E402

OPTS = LoopOptions(lr=2e-2, warmup_steps=2, max_steps=4, log_every=1, ckpt_minutes=0.0)
RAN = []


class Payload:
    """Unpickling this calls ``RAN.append`` — proof that arbitrary code would run."""

    def __reduce__(self):
        return (RAN.append, ("payload ran",))


def test_a_pickle_payload_in_a_checkpoint_never_runs(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(pickle.dumps({"model": Payload()}))
    with pytest.raises(UserError, match="cannot resume from checkpoint"):
        train(toy_task(), tmp_path, OPTS)
    assert RAN == []


def test_a_truncated_or_foreign_checkpoint_is_one_line(tmp_path):
    train(toy_task(), tmp_path, OPTS)
    ckpt = tmp_path / "checkpoint.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 3])
    with pytest.raises(UserError, match="checkpoint.pt") as err:
        load_checkpoint(ckpt, torch.device("cpu"))
    assert "\n" not in str(err.value)
    torch.save({"weights": torch.zeros(2)}, ckpt)
    with pytest.raises(UserError, match="not a training checkpoint"):
        load_checkpoint(ckpt, torch.device("cpu"))


def test_checkpoints_hold_only_plain_values_and_old_numpy_ones_still_load(tmp_path):
    train(toy_task(), tmp_path, OPTS)
    ckpt = tmp_path / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=True)  # plain torch, no extra globals
    assert isinstance(state["rng"]["numpy"]["keys"], torch.Tensor)
    state["rng"]["numpy"] = np.random.get_state()  # the format written before
    torch.save(state, ckpt)
    assert load_checkpoint(ckpt, torch.device("cpu"))["step"] == 4
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
