"""Starting a discrete (ar) frame adapter from a trained Gaussian (kalle) one, for codes of a
latent RVQ: inputs are the Gaussian adapter's for the codes' vectors, logits its densities."""

import pytest
import torch

from palette.models.frames import DiscreteFrames, GaussianFrames, discrete_from_gaussian


def adapters(K=6, D=3, C=8, seed=0):
    torch.manual_seed(seed)
    source = GaussianFrames(D, 1, C)
    with torch.no_grad():
        for p in source.parameters():
            p.normal_(0.0, 0.5)
    return DiscreteFrames(K, 1, C), source, torch.randn(K, D)


def test_code_inputs_are_the_gaussian_inputs_of_their_vectors():
    target, source, codebook = adapters()
    discrete_from_gaussian(target, source, codebook)
    codes = torch.tensor([[0, 3, 5, 3]])
    want = source.to_steps(codebook[codes[0]].T[None])  # [1, 4, C]
    torch.testing.assert_close(target.to_steps(codes), want)


def test_code_probabilities_are_the_gaussian_densities_of_the_codebook():
    target, source, codebook = adapters()
    discrete_from_gaussian(target, source, codebook)
    h = torch.randn(2, 5, 8)
    logits = target.logits(h)[..., :-1]  # [2, 5, 1, K] without end-of-speech
    mean, _, _ = source.predict(h)  # [2, 5, 1, D]
    sigma = torch.exp(source.head.bias[3:].clamp(-7.0, 2.0)).detach()
    density = torch.distributions.Normal(mean[..., None, :], sigma).log_prob(codebook).sum(-1)
    torch.testing.assert_close(logits.log_softmax(-1), density.log_softmax(-1))
    assert torch.equal(logits.argmax(-1), density.argmax(-1))


def test_mismatched_adapters_are_refused():
    target, source, codebook = adapters()
    with pytest.raises(ValueError, match="does not fit"):
        discrete_from_gaussian(target, source, codebook[:4])
    with pytest.raises(ValueError, match="patch 1"):
        discrete_from_gaussian(DiscreteFrames(6, 2, 8), source, codebook)


def test_an_ar_stage_warm_started_from_kalle_over_latent_codes_gets_its_adapter(tmp_path):
    from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
    from palette.models.config import LMConfig, save_checkpoint
    from palette.models.loading import build_model
    from palette.models.transformer import TransformerConfig
    from palette.recipes.libritts.lm_task import codes_from_gaussian

    torch.manual_seed(0)
    codec_config = PaletteCodecConfig(
        dim=16, encoder_blocks=1, decoder_blocks=1, vocoder_blocks=1, num_codebooks=2,
        latent_dim=3, code_source="latent", codebook_size=6,
    )  # fmt: skip
    codec = PaletteCodec(codec_config)
    codec.rvq.codebooks.normal_()
    codec.save_pretrained(tmp_path / "codec")
    core = TransformerConfig(dim=8, layers=1, heads=2)
    shared = {"num_symbols": 20, "num_codebooks": 2, "transformer": core}
    kalle = build_model(LMConfig(family="kalle", latent_dim=3, **shared))
    save_checkpoint(tmp_path / "kalle", kalle, {"model": kalle.config.to_dict()})
    ar = build_model(LMConfig(family="ar", cardinality=6, **shared))
    assert codes_from_gaussian(ar, str(tmp_path / "kalle"), str(tmp_path / "codec"))
    with torch.no_grad():
        want = kalle.frames.proj(codec.rvq.codebooks[0])
    torch.testing.assert_close(ar.frames.embed.weight[:6], want)
    ar_source = build_model(LMConfig(family="ar", cardinality=6, **shared))
    save_checkpoint(tmp_path / "ar", ar_source, {"model": ar_source.config.to_dict()})
    assert not codes_from_gaussian(ar, str(tmp_path / "ar"), str(tmp_path / "codec"))
