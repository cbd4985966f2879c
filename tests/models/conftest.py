"""Tiny seeded models and fake batches for the model tests (lhotse's dummies, moshi's
test_lm style)."""

import pytest
import torch

from palette.models.codec_lm import LMBatch
from palette.models.config import LMConfig
from palette.models.transformer import TransformerConfig

TINY = TransformerConfig(dim=64, layers=2, heads=4)


def tiny_config(family: str, **kw) -> LMConfig:
    defaults = {
        "num_symbols": 20,
        "cardinality": 0 if family == "kalle" else 16,
        "latent_dim": 4 if family == "kalle" else 0,
        "transformer": TINY,
    }
    return LMConfig(family=family, **(defaults | kw))


def fake_batch(seed: int = 0, codebooks: int = 1, latent_dim: int = 4) -> LMBatch:
    g = torch.Generator().manual_seed(seed)
    text_lens, audio_lens = torch.tensor([7, 5, 6]), torch.tensor([12, 9, 11])
    return LMBatch(
        text=torch.randint(1, 20, (3, 7), generator=g) * (torch.arange(7) < text_lens[:, None]),
        text_lens=text_lens,
        audio_lens=audio_lens,
        codes=torch.randint(0, 16, (3, codebooks, 12), generator=g),
        latent_mean=torch.randn(3, latent_dim, 12, generator=g),
        latent_logstd=torch.full((3, latent_dim, 12), -2.0),
    )


def train(model, batch, steps: int, lr: float = 3e-3, **kw) -> tuple[float, float]:
    """Adam on one batch; returns (first loss, last loss)."""
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr)
    first = last = None
    for _ in range(steps):
        loss = model(batch, **kw)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
        last = loss.item()
    return first, last


@pytest.fixture
def batch():
    return fake_batch()
