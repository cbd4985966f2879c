import pytest
import torch

from palette.models.masks import text_audio_mask
from palette.models.transformer import KVCache, Transformer, TransformerConfig

CFG = TransformerConfig(dim=32, layers=2, heads=4)


def causal(T):
    return torch.ones(T, T, dtype=torch.bool).tril()[None, None]


def test_incremental_decoding_with_cache_equals_full_recompute():
    torch.manual_seed(0)
    model = Transformer(CFG).eval()
    x = torch.randn(1, 10, 32)
    pos = torch.arange(10)[None]
    full = model(x, pos, causal(10))
    cache = KVCache(CFG, 1, 16)
    parts = [model(x[:, :4], pos[:, :4], causal(4), cache)]
    for t in range(4, 10, 3):  # several tokens per call: a verify pass
        n = min(3, 10 - t)
        mask = torch.ones(n, t + n, dtype=torch.bool).tril(t)[None, None]
        parts.append(model(x[:, t : t + n], pos[:, t : t + n], mask, cache))
    assert cache.length == 10
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)


def test_rollback_forgets_rejected_positions():
    torch.manual_seed(0)
    model = Transformer(CFG).eval()
    x, pos = torch.randn(1, 8, 32), torch.arange(8)[None]
    cache = KVCache(CFG, 1, 16)
    model(x[:, :5], pos[:, :5], causal(5), cache)
    model(
        torch.randn(1, 3, 32),
        pos[:, 5:8],
        torch.ones(3, 8, dtype=torch.bool).tril(5)[None, None],
        cache,
    )
    cache.rollback(5)  # reject the 3 drafted positions, then feed the true ones
    out = model(x[:, 5:], pos[:, 5:], torch.ones(3, 8, dtype=torch.bool).tril(5)[None, None], cache)
    assert torch.allclose(out, model(x, pos, causal(8))[:, 5:], atol=1e-5)
    with pytest.raises(ValueError):
        cache.rollback(9)


def test_cache_overflow_is_an_error():
    cache = KVCache(CFG, 1, 4)
    with pytest.raises(RuntimeError, match="KV cache full"):
        Transformer(CFG)(torch.randn(1, 5, 32), torch.arange(5)[None], causal(5), cache)


def test_prefix_lm_mask():
    m = text_audio_mask(torch.tensor([2]), torch.tensor([3]), 3, 3, causal=True)[0, 0]
    # rows: text0 text1 textpad audio0 audio1 audio2
    assert m[0].tolist() == [True, True, False, False, False, False]  # text sees text only
    assert m[2].tolist() == [True, True, True, False, False, False]  # pad: text + itself
    assert m[4].tolist() == [True, True, False, True, True, False]  # audio: text + past audio
    bi = text_audio_mask(torch.tensor([2]), torch.tensor([2]), 2, 3, causal=False)[0, 0]
    assert bi[2].tolist() == [True, True, True, True, False]  # audio sees all valid audio
