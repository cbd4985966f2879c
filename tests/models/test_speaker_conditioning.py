"""A global speaker embedding beside the in-context prompt (``speaker_dim``, PAR and the AR
families): it is learned from, dropped out in training, passed through generation (KV cache,
recompute and self-speculative alike), and absent models are unchanged."""

import pytest
import torch

from palette.codec.files import UserError
from palette.models.alignment import target_durations
from palette.models.codec_lm import CodecLM
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.par import PARModel
from palette.models.par_generate import PARGenerator, PAROptions
from palette.models.sampling import SamplingOptions
from palette.models.speculative import SpeculativeARGenerator, SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator

from .conftest import fake_batch, tiny_config, train
from .test_aligned_par import aligned_batch


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
    with pytest.raises(UserError, match="par, ar and kalle"):
        tiny_config("nar", speaker_dim=8)


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


def _aligned_speaker_batch():
    batch = speaker_batch()
    aligned = aligned_batch()
    batch.durations = aligned.durations
    batch.latent_mean = aligned.latent_mean + 2.0 * batch.speaker[:, :4, None]
    return batch


def test_the_kalle_family_learns_from_the_speaker_embedding():
    batch = _aligned_speaker_batch()
    losses = {}
    for dim in (8, 0):
        torch.manual_seed(0)
        model = CodecLM(tiny_config("kalle", aligned=True, speaker_dim=dim, own_inputs=0.5))
        speaker, batch.speaker = batch.speaker, batch.speaker if dim else None
        losses[dim] = train(model, batch, 80)
        batch.speaker = speaker
    first, last = losses[8]
    assert last < 0.3 * first
    assert last < 0.8 * losses[0][1]  # the offset only the embedding shows


def _generators(model, speaker, **kw):
    """Cached, recomputed and (when the model has a draft head) self-speculative generation of
    the same aligned target for ``speaker [1, E]``."""
    g = torch.Generator().manual_seed(3)
    text = torch.randint(1, 20, (9,), generator=g)
    prompt = (
        torch.randint(0, 16, (5,), generator=g)
        if model.discrete
        else torch.randn(4, 5, generator=g)
    )
    log_d = model.log_durations(text[None], torch.tensor([9]), speaker)[0]
    durations = target_durations(log_d, 4, 12)
    args = (model, text, prompt, 12)
    sampling = SamplingOptions(temperature=0.0) if model.discrete else GaussianSampling(0.0)
    cached = ARGenerator(*args, sampling, durations=durations, speaker=speaker).generate()
    full = ARGenerator(
        *args, sampling, use_cache=False, durations=durations, speaker=speaker
    ).generate()
    if model.discrete:
        spec = SpeculativeARGenerator(
            *args, sampling, SpeculativeOptions("exact", 4), 4, durations=durations, speaker=speaker
        )
    else:
        relaxed = SpeculativeOptions("relaxed", 3, tau_lm=1.0)  # every draft rejected: exact
        spec = SpeculativeGaussianGenerator(
            *args, sampling, relaxed, durations=durations, speaker=speaker
        )
    return cached, full, spec.generate()


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "ar", "draft_upsample": 4, "draft_weight": 1.0},
        {"family": "kalle", "draft_ahead": 3},
    ],
    ids=["ar", "kalle"],
)
def test_ar_generation_carries_the_speaker_through_cache_recompute_and_speculation(fields):
    torch.manual_seed(0)
    model = CodecLM(tiny_config(fields.pop("family"), aligned=True, speaker_dim=8, **fields))
    with torch.no_grad():
        model.speaker_proj.weight.mul_(20.0)
    model.eval()
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(1, 8, generator=g), torch.randn(1, 8, generator=g)
    cached, full, speculative = _generators(model, a)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=0)
    torch.testing.assert_close(speculative, cached, atol=1e-5, rtol=0)
    other = _generators(model, b)[0]
    assert not torch.equal(other, cached)  # another voice, the same text and prompt
    torch.testing.assert_close(_generators(model, None)[0], _generators(model, 0 * a)[0])
