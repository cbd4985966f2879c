"""A global speaker embedding beside the in-context prompt (PAR ``speaker_dim``): it is learned
from, dropped out in training, passed through generation, and absent models are unchanged."""

import pytest
import torch

from palette.codec.files import UserError
from palette.models.par import PARModel
from palette.models.par_generate import PARGenerator, PAROptions

from .conftest import fake_batch, tiny_config, train


def speaker_batch(seed=0, dim=8):
    """fake_batch whose latents carry a per-utterance offset that only the speaker shows."""
    batch = fake_batch(seed)
    g = torch.Generator().manual_seed(seed + 1)
    batch.speaker = torch.randn(3, dim, generator=g)
    offset = 2.0 * batch.speaker[:, :4]  # [B, D]: the "timbre" of each utterance
    batch.latent_mean = 0.1 * batch.latent_mean + offset[:, :, None]
    return batch


def latent_config(**kw):
    return tiny_config("par", cardinality=0, latent_dim=4, score_ratio=0.0, **kw)


def test_the_speaker_embedding_explains_what_the_text_cannot():
    batch = speaker_batch()
    torch.manual_seed(0)
    with_speaker = PARModel(latent_config(speaker_dim=8))
    first, last = train(with_speaker, batch, 60, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    without = PARModel(latent_config())
    batch.speaker = None
    _, last_without = train(without, batch, 60, generator=torch.Generator().manual_seed(0))
    assert last < 0.5 * first
    assert last < 0.7 * last_without


def test_speaker_dropout_zeroes_the_embedding_in_training_only():
    batch = speaker_batch()
    model = PARModel(latent_config(speaker_dim=8, speaker_dropout=1.0))
    model(batch)["loss"].backward()
    assert model.speaker_proj.weight.grad.abs().sum() == 0  # every embedding dropped
    model.zero_grad()
    model.eval()
    model(batch)["loss"].backward()
    assert model.speaker_proj.weight.grad.abs().sum() > 0  # eval keeps them


def test_models_without_speaker_dim_are_unchanged_and_refuse_one():
    torch.manual_seed(0)
    plain = PARModel(latent_config())
    assert not any(name.startswith("speaker_proj") for name in plain.state_dict())
    batch = speaker_batch()
    with pytest.raises(ValueError, match="takes no speaker embedding"):
        plain.logits(
            batch.text,
            batch.text_lens,
            batch.latent_mean,
            batch.audio_lens,
            torch.zeros(3, 12, dtype=torch.bool),
            speaker=batch.speaker,
        )
    conditioned = PARModel(latent_config(speaker_dim=8))
    with pytest.raises(ValueError, match="expected \\(3, 8\\)"):
        conditioned.log_durations(batch.text, batch.text_lens, torch.zeros(3, 5))
    batch.speaker = None
    with pytest.raises(ValueError, match="batches with speaker"):
        conditioned(batch)
    with pytest.raises(UserError, match="par family"):
        tiny_config("ar", speaker_dim=8)


def test_generation_follows_the_speaker_embedding():
    torch.manual_seed(0)
    model = PARModel(latent_config(speaker_dim=8, aligned=True)).eval()
    batch = speaker_batch()
    text, prompt = batch.text[0], batch.latent_mean[0, :, :4]
    options = PAROptions(temperature=0.0, refine_iterations=0)

    def generate(speaker):
        gen = PARGenerator(model, text, prompt, 6, options, target_start=3, speaker=speaker)
        return gen.generate()

    a, b = generate(batch.speaker[0]), generate(batch.speaker[1])
    assert a.shape == (4, 6) and not torch.allclose(a, b)
    torch.testing.assert_close(generate(None), generate(torch.zeros(8)))  # None = unconditioned
