"""The depth-head ar model over a latent-RVQ codec: its logits start as the Gaussian's density,
training and decoding score codes alike, it learns, the KV cache and speculative exact decoding
reproduce plain greedy decoding, speculative sampling keeps plain sampling's distribution, and
relaxed acceptance follows its thresholds."""

import collections
import math

import pytest
import torch

from palette.codec import UserError
from palette.models.codec_lm import CodecLM
from palette.models.generate import ARGenerator
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_depth import SpeculativeDepthGenerator

from .conftest import tiny_config, train
from .test_aligned_par import aligned_batch
from .test_speculative_gaussian import setting


def depth_model(seed=0, codebooks=3, cardinality=16, **kw):
    torch.manual_seed(seed)
    fields = {
        "latent_dim": 4,
        "depth": True,
        "aligned": True,
        "draft_ahead": 3,
        "draft_weight": 1.0,
    }
    config = tiny_config("ar", cardinality=cardinality, num_codebooks=codebooks, **(fields | kw))
    model = CodecLM(config)
    scale = torch.tensor([1.0, 0.4, 0.15, 0.05])[:codebooks, None, None]
    model.frames.set_vectors(scale * torch.randn(codebooks, cardinality, 4))
    return model.eval()


def test_logits_start_as_the_gaussian_density_of_the_latent_a_code_completes():
    frames = depth_model().frames
    g = torch.Generator().manual_seed(1)
    mean, logstd, before = (torch.randn(5, 4, generator=g) for _ in range(3))
    logits = frames.logits(mean, logstd, before, 1)  # [5, K]
    latent = before[:, None] + frames.vectors[1][None]  # [5, K, D]
    density = -0.5 * ((latent - mean[:, None]) * torch.exp(-logstd[:, None])).square().sum(-1)
    torch.testing.assert_close(logits.log_softmax(-1), density.log_softmax(-1))


def test_training_and_decoding_score_the_same_codes_alike():
    frames = depth_model().frames
    with torch.no_grad():  # a non-zero depth correction, as after training
        frames.depth_out.weight.normal_(0, 0.3)
        frames.spread.normal_(0, 0.3)
    g = torch.Generator().manual_seed(2)
    mean, logstd = torch.randn(4, generator=g), torch.randn(4, generator=g) * 0.3
    codes = torch.tensor([3, 7, 1])
    drawn, rows = frames.draw(mean, logstd, lambda q, logits: codes[q])
    teacher = frames.teacher_logits(mean[None, None], logstd[None, None], codes[None, :, None])
    assert torch.equal(drawn, codes)
    torch.testing.assert_close(teacher[0, 0], rows)
    steps = frames.to_steps(codes[None, :, None])
    latent = sum(frames.vectors[q, codes[q]] for q in range(3))
    torch.testing.assert_close(steps[0, 0], frames.proj(latent))


def test_the_depth_model_learns_every_codebook():
    model = depth_model().train()
    batch = aligned_batch()
    batch.codes = torch.randint(0, 16, (3, 3, 12), generator=torch.Generator().manual_seed(0))
    first = model(batch)
    assert set(first) >= {"loss", "ce", "stop", "draft", "dur"}
    assert first["ce"].item() > 3 * math.log(16) * 0.8  # near uniform over 3 codebooks
    _, last = train(model, batch, 60)
    assert last < 0.7 * first["loss"].item()


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_the_kv_cache_reproduces_full_recompute(temperature):
    model = depth_model(3)
    text, _, durations = setting(model, frames=8)
    prompt = torch.randint(0, 16, (3, 4), generator=torch.Generator().manual_seed(0))
    options = SamplingOptions(temperature=temperature)
    run = lambda cache: ARGenerator(  # noqa: E731
        model, text, prompt, 8, options, 5, use_cache=cache, durations=durations
    ).generate()
    cached = run(True)
    assert cached.shape == (3, 8)
    assert torch.equal(cached, run(False))


class RightDrafts(SpeculativeDepthGenerator):
    """Drafts that are the plain greedy frames ``future [Q, T]`` (always right)."""

    future: torch.Tensor

    def _drafts(self, m, K):
        q, _ = super()._drafts(m, K)
        n = self.generated.shape[-1] + 1  # the pending frame comes first
        return q, self.future[:, n : n + K].T[:, None]


def test_exact_mode_is_token_identical_to_greedy_decoding():
    model = depth_model(4)
    text, _, durations = setting(model, frames=12)
    prompt = torch.randint(0, 16, (3, 4), generator=torch.Generator().manual_seed(1))
    greedy = SamplingOptions(temperature=0.0)
    plain = ARGenerator(model, text, prompt, 12, greedy, durations=durations).generate()
    spec = SpeculativeOptions("exact", draft_tokens=3)
    fast = SpeculativeDepthGenerator(model, text, prompt, 12, greedy, spec, 0, durations)
    assert torch.equal(fast.generate(), plain)
    right = RightDrafts(model, text, prompt, 12, greedy, spec, 0, durations)
    right.future = plain
    assert torch.equal(right.generate(), plain)
    assert right.accepted == right.drafted > 0 and right.passes <= 1 + -(-12 // 4)


def joint(runs) -> collections.Counter:
    return collections.Counter(tuple(r.flatten().tolist()) for r in runs)


def total_variation(a: collections.Counter, b: collections.Counter, n: int) -> float:
    return 0.5 * sum(abs(a[k] - b[k]) for k in set(a) | set(b)) / n


def test_speculative_sampling_has_the_distribution_of_plain_sampling():
    model = depth_model(5, codebooks=2, cardinality=2)
    with torch.no_grad():  # a draft head that disagrees with the model
        model.gaussian_draft.net[-1].bias.normal_(0, 1.0)
    text, _, durations = setting(model, frames=2)
    prompt = torch.tensor([[0, 1], [1, 0]])
    options = SamplingOptions(temperature=1.0)
    n = 3000
    plain = joint(
        ARGenerator(model, text, prompt, 2, options, i, durations=durations).generate()
        for i in range(n)
    )
    spec = SpeculativeOptions("sampling", draft_tokens=1)
    runs = [
        SpeculativeDepthGenerator(model, text, prompt, 2, options, spec, i, durations)
        for i in range(n)
    ]
    fast = joint(r.generate() for r in runs)
    keep_all = SpeculativeOptions("relaxed", draft_tokens=1, tau_ctc=100.0)
    drafts = joint(
        SpeculativeDepthGenerator(
            model, text, prompt, 2, options, keep_all, i, durations
        ).generate()
        for i in range(n)
    )
    accepted = sum(r.accepted for r in runs)
    assert 0 < accepted < sum(r.drafted for r in runs)
    assert total_variation(fast, plain, n) < 0.06, (fast.most_common(4), plain.most_common(4))
    assert total_variation(drafts, plain, n) > 0.12  # the draft alone has another distribution


@pytest.mark.parametrize("temperature", [0.0, 0.7])  # relaxed is relaxed at 0 too
def test_relaxed_acceptance_follows_its_thresholds(temperature):
    model = depth_model(6)
    text, _, durations = setting(model, frames=12)
    prompt = torch.randint(0, 16, (3, 4), generator=torch.Generator().manual_seed(2))
    options = SamplingOptions(temperature=temperature)

    def run(tau_ctc, tau_lm):
        spec = SpeculativeOptions("relaxed", draft_tokens=3, tau_ctc=tau_ctc, tau_lm=tau_lm)
        g = SpeculativeDepthGenerator(model, text, prompt, 12, options, spec, 0, durations)
        return g, g.generate()

    keep, out = run(100.0, 1.0)  # every span's entropy is below 100 nats
    assert out.shape == (3, 12) and keep.accepted == keep.drafted > 0
    none, _ = run(0.0, 1.01)  # no code is that sure
    assert none.accepted == 0 and none.drafted > 0


def test_what_a_depth_model_cannot_do_is_a_clear_error():
    with pytest.raises(UserError, match="depth"):
        tiny_config("ar", latent_dim=0, depth=True)
    with pytest.raises(UserError, match="own_inputs"):
        tiny_config("ar", latent_dim=4, depth=True, own_inputs=0.5)
    model = depth_model(draft_ahead=0, draft_weight=0.0)
    text, _, durations = setting(model, frames=4)
    prompt = torch.zeros(3, 2, dtype=torch.long)
    with pytest.raises(UserError, match="draft head"):
        SpeculativeDepthGenerator(
            model, text, prompt, 4, SamplingOptions(), SpeculativeOptions("exact"), 0, durations
        )
    with pytest.raises(ValueError, match="codebooks"):
        model.frames.set_vectors(torch.zeros(2, 16, 4))
