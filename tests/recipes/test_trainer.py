import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from palette.recipes.libritts.trainer import LoopOptions, train

sys.path.insert(0, str(Path(__file__).parent))
from toy_training import toy_task  # noqa: E402

OPTS = LoopOptions(lr=2e-2, warmup_steps=2, max_steps=60, log_every=1, ckpt_minutes=0.0)


def read_losses(exp):
    with open(Path(exp) / "log.csv") as fh:
        return [float(r["loss"]) for r in csv.DictReader(fh)]


def test_loss_falls_and_logs_are_written(tmp_path):
    train(toy_task(), tmp_path, OPTS)
    losses = read_losses(tmp_path)
    assert len(losses) == 60 and sum(losses[-6:]) < 0.3 * sum(losses[:6])
    assert (tmp_path / "checkpoint.pt").exists()


def test_resume_after_a_crash_continues_the_same_loss_curve(tmp_path):
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    task = toy_task()
    train(task, straight, OPTS)
    with pytest.raises(KeyboardInterrupt):
        train(toy_task(crash_after=27), crashed, OPTS)  # dies inside epoch 5
    assert len(read_losses(crashed)) == 27
    resumed = toy_task()
    train(resumed, crashed, OPTS)
    assert read_losses(crashed) == pytest.approx(read_losses(straight), rel=1e-6)
    for a, b in zip(task.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.allclose(a, b)


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not on PATH")
def test_two_process_gloo_run_keeps_ranks_identical(tmp_path):
    script = Path(__file__).parent / "toy_training.py"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).parents[2]))
    out = subprocess.run(
        ["torchrun", "--nproc-per-node=2", "--master-port=29533", str(script), str(tmp_path), "12"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    p0, p1 = (torch.load(tmp_path / f"params_rank{r}.pt") for r in (0, 1))
    assert torch.equal(p0, p1)
    # the ranks saw different data (seeded per rank), so identity comes from gradient averaging
    single = toy_task(rank=1)
    train(
        single, tmp_path / "single", LoopOptions(lr=1e-2, warmup_steps=2, max_steps=12, log_every=1)
    )
    flat = torch.cat([p.detach().flatten() for p in single.model.parameters()])
    assert not torch.allclose(flat, p1)


def test_an_epoch_without_batches_is_an_error_not_a_hang(tmp_path):
    task = toy_task()
    task.batches = lambda epoch: iter(())
    with pytest.raises(RuntimeError, match="no batches"):
        train(task, tmp_path, OPTS)
