import copy

import torch

from palette.models.nar import NARModel
from palette.models.par import PARModel, iid_loss_mask, par_loss_mask
from palette.models.par_generate import PARGenerator, PAROptions, target_length

from .conftest import fake_batch, tiny_config, train


def test_par_loss_mask_masks_a_suffix_and_scores_its_leftmost_tenth():
    lens = torch.tensor([40, 25, 9])
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        masked, scored = par_loss_mask(lens, 40, g)
        for b, n in enumerate(lens.tolist()):
            m = masked[b].nonzero().squeeze(-1)
            s = int(m[0])
            assert m.tolist() == list(range(s, n))  # all of s..len-1, nothing else
            k = max(1, int(0.1 * n))
            assert scored[b].nonzero().squeeze(-1).tolist() == list(range(s, s + k))


def test_iid_mask_never_touches_the_prompt():
    lens, prompt = torch.tensor([30, 20]), torch.tensor([10, 5])
    masked, _ = iid_loss_mask(lens, 30, prompt, torch.Generator().manual_seed(0))
    assert not masked[0, :10].any() and not masked[1, :5].any() and not masked[1, 20:].any()
    assert masked.any(dim=1).all()


def test_par_overfits_and_reproduces_an_utterance(batch):
    torch.manual_seed(0)
    model = PARModel(tiny_config("par"))
    # 800 steps: at 400 the greedy reproduction was one code off on some CPUs (BLAS rounding)
    first, last = train(model, batch, 800, generator=torch.Generator().manual_seed(0))
    assert last < 0.1 * first
    codes = batch.codes[0, 0]
    # trained with k = floor(0.1 * 12) = 1 scored frame, so commit one frame per step
    gen = PARGenerator(model, batch.text[0], codes[:4], 8, PAROptions(span=1, temperature=0))
    assert torch.equal(gen.generate(), codes[4:12])
    assert gen.steps == 8


def test_span_commit_fills_left_to_right():
    torch.manual_seed(0)
    model = PARModel(tiny_config("par"))
    batch = fake_batch()
    gen = PARGenerator(model, batch.text[0], batch.codes[0, 0, :4], 7, PAROptions(span=3))
    sizes = []
    while (span := gen.step()) is not None:
        sizes.append(len(span))
        assert (
            gen.masked[0, 4 + gen.committed :].all()
            and not gen.masked[0, : 4 + gen.committed].any()
        )
    assert sizes == [3, 3, 1]


def test_refinement_never_touches_prompt_nor_revisits_a_frame():
    torch.manual_seed(0)
    model = PARModel(tiny_config("par"))
    refiner = copy.deepcopy(model)
    batch = fake_batch()
    prompt = batch.codes[0, 0, :6]
    gen = PARGenerator(
        model, batch.text[0], prompt, 20, PAROptions(refine_iterations=4, refine_quantile=0.2)
    )
    while gen.step() is not None:
        pass
    before = gen.frames.clone()
    passes = gen.refine(refiner)
    assert torch.equal(gen.frames[0, :6], prompt)
    chosen = torch.cat(passes)
    assert len(passes) == 4 and len(chosen) == 16 and len(set(chosen.tolist())) == 16
    untouched = torch.ones(20, dtype=torch.bool)
    untouched[chosen] = False
    assert torch.equal(gen.frames[0, 6:][untouched], before[0, 6:][untouched])


def test_refinement_picks_lowest_confidence_first():
    torch.manual_seed(0)
    model = PARModel(tiny_config("par"))
    batch = fake_batch()
    gen = PARGenerator(
        model,
        batch.text[0],
        batch.codes[0, 0, :4],
        10,
        PAROptions(refine_iterations=1, refine_quantile=0.3),
    )
    while gen.step() is not None:
        pass
    lowest = set(torch.argsort(gen.confidence)[:3].tolist())
    assert set(gen.refine(model)[0].tolist()) == lowest


def test_target_length_follows_prompt_rate_and_speed():
    assert target_length(100, 20, 30) == 150
    assert target_length(100, 20, 30, speed=1.5) == 100


def test_nar_fills_remaining_codebooks():
    torch.manual_seed(0)
    model = NARModel(tiny_config("nar", num_codebooks=3))
    batch = fake_batch(codebooks=3)
    first, last = train(model, batch, 300, generator=torch.Generator().manual_seed(0))
    assert last < 0.1 * first
    codes = batch.codes[0]
    out = model.complete(batch.text[0], codes[:, :4], codes[0, 4:])
    assert out.shape == (3, 8) and torch.equal(out[0], codes[0, 4:])
    assert (out[1:] == codes[1:, 4:]).float().mean() > 0.9
