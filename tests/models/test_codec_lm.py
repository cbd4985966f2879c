import pytest
import torch

from palette.models.codec_lm import CodecLM
from palette.models.frames import gaussian_kl
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.sampling import SamplingOptions

from .conftest import fake_batch, tiny_config, train


@pytest.mark.parametrize("family", ["ar", "kalle"])
@pytest.mark.parametrize("patch", [1, 3])
def test_overfits_one_batch(family, patch, batch):
    torch.manual_seed(0)
    model = CodecLM(tiny_config(family, patch=patch, ctc_weight=0.1))
    first, last = train(model, batch, 150)
    assert last < 0.1 * first


def test_ar_continues_a_memorised_utterance_from_its_prompt(batch):
    torch.manual_seed(0)
    model = CodecLM(tiny_config("ar"))
    train(model, batch, 200)
    codes = batch.codes[0, 0]
    gen = ARGenerator(
        model, batch.text[0, :7], codes[:4], max_frames=30, options=SamplingOptions(temperature=0)
    )
    assert torch.equal(gen.generate(), codes[4:12])  # and stops at the end


@pytest.mark.parametrize(
    "family,options",
    [
        ("ar", SamplingOptions(temperature=1.0, top_k=8, top_p=0.9, ras_window=4)),
        ("kalle", GaussianSampling(temperature=0.7)),
    ],
)
@pytest.mark.parametrize("patch", [1, 2])
def test_kv_cache_generation_equals_full_recompute(family, options, patch):
    torch.manual_seed(1)
    model = CodecLM(tiny_config(family, patch=patch))
    batch = fake_batch()
    prompt = batch.codes[0, 0, :5] if family == "ar" else batch.latent_mean[0, :, :5]
    runs = [
        ARGenerator(
            model, batch.text[0], prompt, max_frames=24, options=options, seed=7, use_cache=c
        ).generate()
        for c in (True, False)
    ]
    assert runs[0].shape[-1] > 0 and runs[0].shape == runs[1].shape
    assert torch.allclose(runs[0].float(), runs[1].float(), atol=1e-5)


def test_length_cap_stops_generation():
    torch.manual_seed(0)
    model = CodecLM(tiny_config("kalle", patch=2))
    batch = fake_batch()
    with torch.no_grad():
        model.frames.stop.bias.fill_(-50.0)  # never stops by itself
    gen = ARGenerator(model, batch.text[0], batch.latent_mean[0, :, :4], max_frames=7)
    assert gen.generate().shape == (4, 7)


def test_gaussian_kl_matches_closed_form_of_torch_distributions():
    g = torch.Generator().manual_seed(0)
    qm, qs, pm, ps = (torch.randn(50, generator=g) for _ in range(4))
    q = torch.distributions.Normal(qm, qs.exp())
    p = torch.distributions.Normal(pm, ps.exp())
    expected = torch.distributions.kl_divergence(q, p)
    assert torch.allclose(gaussian_kl(qm, qs, pm, ps), expected, atol=1e-5)
    assert torch.allclose(gaussian_kl(qm, qs, qm, qs), torch.zeros(50), atol=1e-6)


def test_ctc_loss_is_reported_and_weighted(batch):
    model = CodecLM(tiny_config("ar", ctc_weight=0.5))
    losses = model(batch)
    assert torch.allclose(losses["loss"], losses["ce"] + 0.5 * losses["ctc"])
