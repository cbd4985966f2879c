"""KALL-E followed by PALLE's NAR refinement: the Gaussian generators record each frame's
confidence exactly as the model predicted it (plain, cached and self-speculative alike), and
the kalle family re-predicts only the lowest-confidence frames with a latent refine stage."""

import pytest
import torch

from palette.models.codec_lm import CodecLM
from palette.models.families.base import SentenceRequest, predicted_durations, target_frames
from palette.models.families.kalle import KalleFamily
from palette.models.generate import ARGenerator, GaussianSampling
from palette.models.par import PARModel
from palette.models.speculative import SpeculativeOptions
from palette.models.speculative_gaussian import SpeculativeGaussianGenerator
from palette.tts.options import SynthesisOptions

from .conftest import tiny_config

LENGTH = 12


@pytest.fixture(scope="module")
def kalle():
    torch.manual_seed(0)
    return CodecLM(tiny_config("kalle", aligned=True, draft_ahead=3)).eval()


@pytest.fixture(scope="module")
def refiner():
    torch.manual_seed(1)
    config = tiny_config("par", cardinality=0, latent_dim=4, score_ratio=0.0, aligned=True)
    return PARModel(config).eval()


def _request() -> SentenceRequest:
    g = torch.Generator().manual_seed(3)
    text = torch.randint(1, 20, (9,), generator=g)
    return SentenceRequest(text, 4, None, torch.randn(4, 5, generator=g), frame_rate=12.5)


def _options(**kw) -> SynthesisOptions:
    return SynthesisOptions(family="kalle", temperature=0.0, duration=LENGTH / 12.5, **kw)


def _teacher_forced_confidence(model, request, durations, frames) -> torch.Tensor:
    """-mean log-std ``[T]`` of a no-cache pass over prompt + ``frames [D, T]``."""
    probe = ARGenerator(model, request.text, request.prompt_latents, LENGTH, durations=durations)
    probe.frames = [frames]
    steps = probe._all_steps()
    with torch.inference_mode():
        states = model.run(
            probe.text,
            probe.text_lens,
            steps,
            torch.tensor([steps.shape[1]]),
            phones=probe.phone_rows(0, steps.shape[1] + 1),
        )
        _, logstd, _ = model.frames.predict(states)
    first = probe.prompt.shape[-1]
    return -logstd[0, first : first + frames.shape[-1], 0].mean(-1)


@pytest.mark.parametrize("tau_lm", [None, 1.0, 0.0], ids=["plain", "all-rejected", "all-kept"])
def test_generators_record_the_confidence_the_model_gave_each_frame(kalle, tau_lm):
    request = _request()
    durations = predicted_durations(kalle, request, LENGTH)
    args = (kalle, request.text, request.prompt_latents, LENGTH, GaussianSampling(0.0))
    if tau_lm is None:
        generator = ARGenerator(*args, durations=durations)
    else:
        spec = SpeculativeOptions("relaxed", 3, tau_lm=tau_lm)
        generator = SpeculativeGaussianGenerator(*args, spec, durations=durations)
    frames = generator.generate()
    assert generator.confidence.shape == (LENGTH,)
    expected = _teacher_forced_confidence(kalle, request, durations, frames)
    torch.testing.assert_close(generator.confidence, expected, atol=1e-5, rtol=0)
    if tau_lm == 0.0:
        assert generator.accepted > 0  # drafts were committed, and scored as the model's


def _kalle_frames(kalle, refiner, options, whole=True) -> torch.Tensor:
    models = {"kalle": kalle, "refine": refiner}
    return torch.cat(list(KalleFamily().pieces(_request(), models, options, whole)), dim=-1)


def test_refinement_rewrites_only_the_lowest_confidence_frames(kalle, refiner):
    request, options = _request(), _options(refine_iterations=2, refine_quantile=0.25)
    plain = _kalle_frames(kalle, None, options)
    assert torch.equal(_kalle_frames(kalle, refiner, options, whole=False), plain)  # streamed
    assert torch.equal(_kalle_frames(kalle, refiner, _options(refine_iterations=0)), plain)
    refined = _kalle_frames(kalle, refiner, options)
    assert refined.shape == plain.shape == (4, target_frames(request, options))

    generator = ARGenerator(
        kalle,
        request.text,
        request.prompt_latents,
        LENGTH,
        GaussianSampling(0.0),
        durations=predicted_durations(kalle, request, LENGTH),
    )
    generator.generate()
    lowest = torch.argsort(generator.confidence)[:6]  # 2 passes x ceil(0.25 x 12) frames
    changed = (refined != plain).any(0)
    assert changed[lowest].all()
    assert not changed[~torch.isin(torch.arange(LENGTH), lowest)].any()


def test_a_codes_refine_stage_is_not_applied_to_latents(kalle):
    torch.manual_seed(1)
    codes_refiner = PARModel(tiny_config("par", aligned=True)).eval()
    options = _options(refine_iterations=2)
    assert torch.equal(
        _kalle_frames(kalle, codes_refiner, options), _kalle_frames(kalle, None, options)
    )
