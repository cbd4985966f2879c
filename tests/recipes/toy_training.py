"""A toy task for the training loop: a tiny regression model over seeded batches, with a
sampler whose position can be saved and restored. Also runnable under torchrun:

    torchrun --nproc-per-node=2 tests/recipes/toy_training.py EXP_DIR STEPS
"""

import sys

import torch

from palette.recipes.libritts.trainer import LoopOptions, Task, train


class ToySampler:
    """Yields batch indices in a seeded order per epoch; its state is (epoch, position)."""

    def __init__(self, n_batches: int, rank: int = 0, crash_after: int | None = None):
        self.n, self.rank, self.epoch, self.pos = n_batches, rank, 0, 0
        self.crash_after, self.served = crash_after, 0

    def __iter__(self):
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.epoch))
        while self.pos < self.n:
            if self.crash_after is not None and self.served == self.crash_after:
                raise KeyboardInterrupt("simulated crash")
            self.pos += 1
            self.served += 1
            yield int(order[self.pos - 1])
        self.pos, self.epoch = 0, self.epoch + 1

    def state_dict(self):
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state):
        self.epoch, self.pos = state["epoch"], state["pos"]


def toy_task(rank: int = 0, crash_after: int | None = None) -> Task:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 1)
    )
    g = torch.Generator().manual_seed(1 + rank)
    xs = torch.randn(6, 8, 4, generator=g)
    ys = 0.5 * xs.sum(-1, keepdim=True)
    sampler = ToySampler(len(xs), rank, crash_after)

    def loss_fn(m, i):
        loss = torch.nn.functional.mse_loss(m(xs[i]), ys[i])
        return {"loss": loss}

    return Task(model=model, loss_fn=loss_fn, batches=lambda epoch: iter(sampler), sampler=sampler)


if __name__ == "__main__":
    import os

    exp, steps = sys.argv[1], int(sys.argv[2])
    rank = int(os.environ.get("RANK", "0"))
    task = toy_task(rank)
    train(task, exp, LoopOptions(lr=1e-2, warmup_steps=2, max_steps=steps, log_every=1))
    flat = torch.cat([p.detach().flatten() for p in task.model.parameters()])
    torch.save(flat, f"{exp}/params_rank{rank}.pt")
