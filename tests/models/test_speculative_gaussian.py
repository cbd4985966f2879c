"""Self-speculative decoding of the Gaussian family: the draft head learns, speculative sampling
(density ratio + residual) has plain sampling's distribution, relaxed acceptance follows its
threshold, and the modes that cannot work are clear errors."""

import pytest
import torch

from palette.codec import UserError
from palette.models.alignment import target_durations
from palette.models.codec_lm import CodecLM
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator

from .conftest import tiny_config, train
from .test_aligned_par import aligned_batch


def kalle_model(seed=0, latent_dim=4, **kw):
    torch.manual_seed(seed)
    config = tiny_config(
        "kalle", latent_dim=latent_dim, aligned=True, draft_ahead=3, draft_weight=1.0, **kw
    )
    return CodecLM(config).eval()


def setting(model, frames=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    text = torch.randint(1, 20, (9,), generator=g)
    prompt = torch.randn(model.config.latent_dim, 4, generator=g)
    log_d = model.log_durations(text[None], torch.tensor([9]))[0]
    return text, prompt, target_durations(log_d, 4, frames)


def ks_statistic(a: torch.Tensor, b: torch.Tensor) -> float:
    """Two-sample Kolmogorov-Smirnov distance of 1-D samples."""
    grid = torch.cat([a, b]).sort().values
    cdf = lambda x: torch.searchsorted(x.sort().values, grid, right=True) / len(x)  # noqa: E731
    return float((cdf(a) - cdf(b)).abs().max())


def test_the_draft_head_learns_steps_ahead():
    torch.manual_seed(0)
    model = CodecLM(
        tiny_config("kalle", latent_dim=4, aligned=True, draft_ahead=3, draft_weight=1.0)
    )
    batch = aligned_batch()
    before = model(batch)["draft"].item()
    train(model, batch, 200)
    assert model(batch)["draft"].item() < 0.5 * before


def test_speculative_sampling_has_the_distribution_of_plain_sampling():
    model = kalle_model(1, latent_dim=2)
    text, prompt, durations = setting(model, frames=3)
    options = GaussianSampling(temperature=1.0)
    spec = SpeculativeOptions("sampling", draft_tokens=2)
    n = 1000
    plain = torch.stack(
        [
            ARGenerator(model, text, prompt, 3, options, i, durations=durations).generate()
            for i in range(n)
        ]
    )  # [n, D, T]
    runs = [
        SpeculativeGaussianGenerator(model, text, prompt, 3, options, spec, i, durations)
        for i in range(n)
    ]
    fast = torch.stack([r.generate() for r in runs])
    assert fast.shape == plain.shape == (n, 2, 3)
    assert sum(r.accepted for r in runs) > 0.2 * sum(r.drafted for r in runs)  # some kept
    assert sum(r.accepted for r in runs) < sum(r.drafted for r in runs)  # and some redrawn
    # the draft's own distribution differs from the model's: keeping every draft would show
    keep_all = SpeculativeOptions("relaxed", draft_tokens=2, tau_lm=0.0)
    drafts = torch.stack(
        [
            SpeculativeGaussianGenerator(
                model, text, prompt, 3, options, keep_all, i, durations
            ).generate()
            for i in range(n)
        ]
    )
    worst_plain = max(
        ks_statistic(fast[:, d, t], plain[:, d, t]) for d in range(2) for t in range(3)
    )
    worst_draft = max(
        ks_statistic(drafts[:, d, t], plain[:, d, t]) for d in range(2) for t in (1, 2)
    )
    assert worst_plain < 0.075  # 1,000 vs 1,000 draws: KS 5 % critical value 0.061, 6 tests
    assert worst_draft > 0.15


def test_relaxed_threshold_keeps_all_or_no_drafts():
    model = kalle_model(2)
    text, prompt, durations = setting(model, frames=12)
    options = GaussianSampling(temperature=0.7)

    def run(tau):
        spec = SpeculativeOptions("relaxed", draft_tokens=3, tau_lm=tau)
        g = SpeculativeGaussianGenerator(model, text, prompt, 12, options, spec, 0, durations)
        return g, g.generate()

    keep, out_keep = run(0.0)
    none, out_none = run(1.0)
    assert out_keep.shape == out_none.shape == (4, 12)
    assert keep.accepted == keep.drafted > 0 and keep.passes <= 1 + -(-12 // 4)
    assert none.accepted == 0 and none.passes == 12  # prefill + one pass per committed step - 1


def test_streaming_commits_spans_that_add_up_to_the_whole():
    model = kalle_model(3)
    text, prompt, durations = setting(model, frames=10)
    spec = SpeculativeOptions("sampling", draft_tokens=3)
    options = GaussianSampling(temperature=0.8)
    g = SpeculativeGaussianGenerator(model, text, prompt, 10, options, spec, 5, durations)
    spans = []
    while (s := g.step()) is not None:
        spans.append(s)
    whole = SpeculativeGaussianGenerator(model, text, prompt, 10, options, spec, 5, durations)
    assert all(s.shape[-1] >= 1 for s in spans)
    assert torch.equal(torch.cat(spans, dim=-1), whole.generate())


def test_modes_that_cannot_work_are_clear_errors():
    model = kalle_model()
    text, prompt, durations = setting(model)
    with pytest.raises(UserError, match="exact"):
        SpeculativeGaussianGenerator(
            model,
            text,
            prompt,
            8,
            GaussianSampling(0.8),
            SpeculativeOptions("exact"),
            0,
            durations,
        )
    with pytest.raises(UserError, match="temperature"):
        SpeculativeGaussianGenerator(
            model,
            text,
            prompt,
            8,
            GaussianSampling(0.0),
            SpeculativeOptions("sampling"),
            0,
            durations,
        )
    plain = CodecLM(tiny_config("kalle", latent_dim=4, aligned=True)).eval()
    with pytest.raises(UserError, match="draft head"):
        SpeculativeGaussianGenerator(
            plain,
            text,
            prompt,
            8,
            GaussianSampling(0.8),
            SpeculativeOptions("sampling"),
            0,
            durations,
        )
    with pytest.raises(UserError, match="aligned kalle"):
        tiny_config("kalle", latent_dim=4, draft_ahead=3)
