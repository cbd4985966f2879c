import torch

from palette.models.sampling import SamplingOptions, filter_logits, sample


def test_top_k_and_top_p_filtering():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isinf(filter_logits(logits, top_k=2)[0, 2:]).all()
    kept = ~torch.isinf(filter_logits(logits, top_p=0.7))
    assert kept.tolist() == [[True, True, False, False]]  # 0.5 < 0.7 <= 0.8
    assert (~torch.isinf(filter_logits(logits, top_p=0.5))).sum() == 1


def test_greedy_and_seeded_sampling():
    logits = torch.randn(5, 10)
    assert torch.equal(sample(logits, SamplingOptions(temperature=0)), logits.argmax(-1))
    opts = SamplingOptions(temperature=1.0, top_p=0.9)
    a = sample(logits, opts, generator=torch.Generator().manual_seed(3))
    b = sample(logits, opts, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_repetition_aware_sampling_escapes_a_loop():
    logits = torch.tensor([[5.0, 4.9, -10.0]])  # nucleus at top_p=0.1 is token 0 only
    history = torch.zeros(1, 8, dtype=torch.long)  # token 0 repeated
    opts = SamplingOptions(temperature=1.0, top_p=0.1, ras_window=8, ras_threshold=0.5)
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample(logits, opts, history, g) for _ in range(200)])
    assert (draws == 1).any()  # falls back to the full distribution
    plain = SamplingOptions(temperature=1.0, top_p=0.1)
    assert all(int(sample(logits, plain, history, g)) == 0 for _ in range(50))
