"""Explicit durations: the CTC aligner, frame-aligned phoneme conditioning and continuous PAR."""

import pytest
import torch

from palette.models.aligner import CTCAligner
from palette.models.alignment import frame_phonemes, spread_durations
from palette.models.codec_lm import LMBatch
from palette.models.par import PARModel, par_loss_mask
from palette.models.par_generate import PARGenerator, PAROptions
from palette.models.transformer import TransformerConfig

from .conftest import fake_batch, tiny_config, train


def aligned_batch(seed=0):
    """fake_batch plus durations that tile each utterance, and latents that follow them."""
    batch = fake_batch(seed)
    g = torch.Generator().manual_seed(seed)
    table = torch.randn(20, 4, generator=g)  # a latent "sound" per phoneme id
    durations = torch.zeros_like(batch.text)
    for b in range(3):
        n, t = int(batch.text_lens[b]), int(batch.audio_lens[b])
        extra = torch.randint(0, n, (t - n,), generator=g)
        d = 1 + torch.bincount(extra, minlength=n)  # random lengths summing to t
        durations[b, :n] = d
        ids = batch.text[b, :n].repeat_interleave(d)
        batch.latent_mean[b, :, :t] = table[ids].T
    batch.durations = durations
    return batch


def test_frame_phonemes_places_each_phoneme_from_the_first_frame():
    index, progress = frame_phonemes(torch.tensor([[2, 0, 3]]), torch.tensor([1]), 7)
    assert index.tolist() == [[-1, 0, 0, 2, 2, 2, -1]]
    assert progress.tolist() == [[0, 0, 1, 0, 1, 2, 0]]


def test_spread_durations_keeps_the_total_and_the_proportions():
    d = spread_durations(torch.log1p(torch.tensor([2.0, 4.0, 2.0])), 16)
    assert d.tolist() == [4, 8, 4]
    assert spread_durations(torch.zeros(7), 10).sum() == 10


def test_score_ratio_zero_scores_every_masked_frame():
    lens = torch.tensor([12, 9])
    masked, scored = par_loss_mask(lens, 12, torch.Generator().manual_seed(0), ratio=0)
    assert torch.equal(masked, scored) and masked.any(dim=1).all()


def test_ctc_aligner_recovers_durations():
    """Utterances whose frames sound like their phoneme (a fixed latent per id, plus noise):
    the Viterbi path over the trained aligner's posteriors finds the true boundaries."""
    g = torch.Generator().manual_seed(0)
    table = torch.randn(20, 4, generator=g)
    B, N = 16, 10
    text = torch.randint(1, 20, (B, N), generator=g)
    text[:, 1::2] = (text[:, 0::2] + 1 + torch.randint(0, 18, (B, N // 2), generator=g)) % 19 + 1
    durations = torch.randint(1, 6, (B, N), generator=g)
    lens = durations.sum(1)
    latents = 0.1 * torch.randn(B, 4, int(lens.max()), generator=g)
    for b in range(B):
        latents[b, :, : lens[b]] += table[text[b].repeat_interleave(durations[b])].T
    batch = LMBatch(text=text, text_lens=torch.full((B,), N), audio_lens=lens, latent_mean=latents)
    cfg = tiny_config(
        "align",
        cardinality=0,
        latent_dim=4,
        transformer=TransformerConfig(dim=64, layers=1, heads=4),
    )
    torch.manual_seed(0)
    model = CTCAligner(cfg)
    first, last = train(model, batch, 300)
    assert last < 0.1 * first
    found = torch.stack(model.durations(batch))
    assert torch.equal(found.sum(1), lens)
    error = (found - durations).abs().float()
    uniform = torch.stack([spread_durations(torch.zeros(N), int(t)) for t in lens])
    assert error.mean() < 0.85 * (uniform - durations).abs().float().mean()
    assert (error <= 1).float().mean() > 0.75


def test_aligned_gaussian_par_learns_frames_and_durations():
    torch.manual_seed(0)
    batch = aligned_batch()
    cfg = tiny_config("par", cardinality=0, latent_dim=4, aligned=True, score_ratio=0.0)
    model = PARModel(cfg)
    first, last = train(model, batch, 400, generator=torch.Generator().manual_seed(0))
    assert last < 0.1 * first
    text, n, t = batch.text[0], int(batch.text_lens[0]), int(batch.audio_lens[0])
    log_d = model.log_durations(batch.text[:1], batch.text_lens[:1])[0, :n]
    assert (spread_durations(log_d, t) - batch.durations[0, :n]).abs().max() <= 1
    gen = PARGenerator(
        model,
        text[:n],
        batch.latent_mean[0, :, :0],
        t,
        PAROptions(span=4, temperature=0),
        target_start=0,
    )
    out = gen.generate()
    assert out.shape == (4, t) and gen.steps == 1 + 3  # duration pass + ceil(11 / 4) spans
    assert (out - batch.latent_mean[0, :, :t]).abs().mean() < 0.5


def test_aligned_generation_needs_the_target_start():
    model = PARModel(tiny_config("par", aligned=True)).eval()
    batch = fake_batch()
    with pytest.raises(ValueError, match="target_start"):
        PARGenerator(model, batch.text[0], batch.codes[0, 0, :4], 6)
    gen = PARGenerator(model, batch.text[0], batch.codes[0, 0, :4], 6, target_start=3)
    assert gen.durations[:3].sum() == 0 and gen.durations.sum() == 6
    assert gen.generate().shape == (6,)
