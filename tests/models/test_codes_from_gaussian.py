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
