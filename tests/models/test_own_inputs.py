"""Scheduled sampling of the autoregressive families (``own_inputs``): in training a share of
the step inputs are the model's own draws from a first teacher-forced pass."""

import pytest
import torch

from palette.codec import UserError
from palette.models.codec_lm import CodecLM
from palette.models.config import LMConfig

from .conftest import tiny_config, train
from .test_aligned_par import aligned_batch


def _kalle(**kw):
    return CodecLM(tiny_config("kalle", cardinality=0, latent_dim=4, aligned=True, **kw))


def _fed(model, batch):
    """The latents the Gaussian loss feeds for a batch, with its step count and phonemes."""
    S = int(batch.audio_lens.max()) + 1
    phones = model._training_phones(batch, S)
    return batch.latent_mean[..., : S - 1], torch.full_like(batch.audio_lens, S), phones


def test_all_own_inputs_are_the_models_own_prediction_for_each_step():
    torch.manual_seed(0)
    model, batch = _kalle(own_inputs=1.0), aligned_batch()
    with torch.no_grad():  # a near-deterministic head: every draw is the predicted mean
        model.frames.head.bias[model.config.latent_dim :] = -50.0
    fed, n_steps, phones = _fed(model, batch)
    drawn = model.train()._own_draws(batch, fed, n_steps, phones)
    states = model.run(
        batch.text, batch.text_lens, model.step_inputs(fed), n_steps - 1, phones=phones
    )
    mean = model.frames.predict(states[:, :-1])[0]  # [B, S - 1, 1, D]
    assert drawn.shape == fed.shape
    torch.testing.assert_close(drawn, mean[:, :, 0].transpose(1, 2), atol=5e-3, rtol=0)
    assert not torch.allclose(drawn, fed, atol=0.1)


def test_own_inputs_replace_about_their_share_of_steps_and_only_in_training():
    torch.manual_seed(0)
    model, batch = _kalle(own_inputs=0.5), aligned_batch()
    fed, n_steps, phones = _fed(model, batch)
    mixed = model.train()._own_draws(batch, fed, n_steps, phones)
    replaced = (mixed != fed).any(dim=1).float().mean()
    assert 0.3 < replaced < 0.7
    assert torch.equal(model.eval()._own_draws(batch, fed, n_steps, phones), fed)


def test_a_second_pass_draws_from_the_history_the_first_pass_made():
    torch.manual_seed(0)
    model, batch = _kalle(own_inputs=1.0, own_passes=2), aligned_batch()
    with torch.no_grad():  # a near-deterministic head: every draw is the predicted mean
        model.frames.head.bias[model.config.latent_dim :] = -50.0
    fed, n_steps, phones = _fed(model, batch)

    def means(history):
        steps = model.step_inputs(history)
        states = model.run(batch.text, batch.text_lens, steps, n_steps - 1, phones=phones)
        return model.frames.predict(states[:, :-1])[0][:, :, 0].transpose(1, 2)

    drawn = model.train()._own_draws(batch, fed, n_steps, phones)
    with torch.no_grad():
        first = means(fed)
        second = means(first)
    torch.testing.assert_close(drawn, second, atol=5e-3, rtol=0)
    assert not torch.allclose(drawn, first, atol=1e-2)  # not the one-pass draw
    with pytest.raises(UserError, match="own_passes"):
        tiny_config("kalle", own_inputs=0.5, own_passes=0)


@pytest.mark.parametrize("family", ["ar", "kalle"])
def test_families_still_learn_with_own_inputs(family):
    torch.manual_seed(0)
    batch = aligned_batch()
    kw = {"cardinality": 0, "latent_dim": 4} if family == "kalle" else {}
    model = CodecLM(tiny_config(family, aligned=True, own_inputs=0.5, **kw))
    first, last = train(model, batch, 300)
    assert last < 0.3 * first


@pytest.mark.parametrize("value, family", [(1.5, "ar"), (-0.1, "ar"), (0.5, "par")])
def test_own_inputs_outside_a_probability_or_family_is_refused(value, family):
    with pytest.raises(UserError, match="own_inputs"):
        LMConfig(family=family, num_symbols=10, cardinality=8, own_inputs=value)
