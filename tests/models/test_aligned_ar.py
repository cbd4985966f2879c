"""Aligned AR families: steps carry their phoneme (explicit durations, as the default PAR model
uses), a duration head fixes the length, and generation never ends early."""

import pytest
import torch

from palette.codec import UserError
from palette.models.alignment import target_durations
from palette.models.codec_lm import CodecLM
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions

from .conftest import tiny_config, train
from .test_aligned_par import aligned_batch


@pytest.mark.parametrize("family", ["ar", "kalle"])
def test_aligned_ar_families_learn_frames_and_durations(family):
    torch.manual_seed(0)
    batch = aligned_batch()
    kw = {"cardinality": 0, "latent_dim": 4} if family == "kalle" else {}
    model = CodecLM(tiny_config(family, aligned=True, **kw))
    first, last = train(model, batch, 300)
    assert last < 0.2 * first
    losses = model(batch)
    assert losses["dur"] < 0.1


def test_aligned_generation_has_the_durations_length_and_cache_equals_recompute():
    torch.manual_seed(0)
    model = CodecLM(tiny_config("ar", aligned=True, draft_upsample=4, draft_weight=1.0)).eval()
    with torch.no_grad():
        model.frames.head.bias[-1] = 20.0  # would end at once if end-of-speech could be drawn
    text, prompt = torch.randint(1, 20, (9,)), torch.randint(0, 16, (5,))
    log_d = model.log_durations(text[None], torch.tensor([9]))[0]
    durations = target_durations(log_d, 4, 14)
    assert durations[:4].sum() == 0 and durations.sum() == 14
    greedy = SamplingOptions(temperature=0.0)
    cached = ARGenerator(model, text, prompt, 14, greedy, durations=durations).generate()
    full = ARGenerator(
        model, text, prompt, 14, greedy, use_cache=False, durations=durations
    ).generate()
    assert cached.shape == (14,) and torch.equal(cached, full)
    spec = SpeculativeARGenerator(
        model, text, prompt, 14, greedy, SpeculativeOptions("exact", 4), 4, durations=durations
    )
    assert torch.equal(spec.generate(), cached)
    kalle = CodecLM(tiny_config("kalle", cardinality=0, latent_dim=4, aligned=True)).eval()
    out = ARGenerator(
        kalle, text, torch.randn(4, 5), 14, GaussianSampling(0.0), durations=durations
    ).generate()
    assert out.shape == (4, 14)


def test_an_aligned_model_without_durations_is_a_clear_error():
    model = CodecLM(tiny_config("ar", aligned=True)).eval()
    with pytest.raises(UserError, match="durations"):
        ARGenerator(model, torch.tensor([1, 2, 3]), torch.tensor([0, 1]), 4)


def test_frame_dropout_zeroes_step_inputs_only_in_training():
    torch.manual_seed(0)
    model = CodecLM(
        tiny_config("kalle", cardinality=0, latent_dim=4, aligned=True, frame_dropout=0.5)
    )
    x = torch.ones(4, 50, 8)
    dropped = model.train()._drop_frames(x)
    zero_rows = (dropped.abs().sum(-1) == 0).float().mean()
    assert 0.35 < zero_rows < 0.65 and torch.equal(dropped[dropped != 0], x[dropped != 0])
    assert torch.equal(model.eval()._drop_frames(x), x)
