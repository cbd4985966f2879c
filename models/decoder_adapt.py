"""Prompt adaptation of the codec decoder: the decoder renders the prompt's own latents and is
fine-tuned towards the prompt's audio, so that it renders this voice's timbre more closely.

Only the normalisation gains and biases and the layer scales of the decoder's and the vocoder's
ConvNeXt blocks are trained (``decoder_adapted_names``: about four thousand values; the
convolutions stay frozen), with the codec's multi-resolution spectral loss (log-mel + log
magnitude + spectral convergence) between the decoded posterior means and the prompt. The
prompt's end (``AdaptOptions.holdout``) is never trained on: it is the early-stopping set, as in
``models.adapt``; the best evaluation is kept, the unadapted decoder (step 0) included. Codes and
latents do not change: the encoder is not touched.
"""

from __future__ import annotations

import copy
import time

import torch

from palette.codec.losses import SpectralLoss
from palette.codec.palette_codec import PaletteCodec
from palette.models.adapt import (
    AdaptLog,
    AdaptOptions,
    HoldoutFit,
    copy_with,
    fit_with_holdout,
    trainable,
)

DECODER_SUFFIXES = ("norm.weight", "norm.bias", "scale")
MIN_HELD_OUT_SAMPLES = 4096  # the spectral loss's largest FFT, and some


def check_decoder_adaptable(codec) -> None:
    if not (isinstance(codec, PaletteCodec) and codec.gaussian is not None):
        raise ValueError(
            "decoder adaptation needs the palette codec with latents in PyTorch "
            "(not EnCodec, not an ONNX decoder)"
        )


def decoder_adapted_names(codec: PaletteCodec) -> list[str]:
    """The codec parameters decoder adaptation trains."""
    check_decoder_adaptable(codec)
    return [
        f"decoder.{n}" for n, _ in codec.decoder.named_parameters() if n.endswith(DECODER_SUFFIXES)
    ]


def adapt_decoder(
    codec: PaletteCodec,
    wav: torch.Tensor,
    mean: torch.Tensor,
    options: AdaptOptions,
    progress=None,
) -> tuple[dict[str, torch.Tensor], AdaptLog]:
    """Fine-tune a copy of ``codec``'s decoder on one prompt (``wav [S]`` at the codec's rate,
    its posterior ``mean [D, T]``) for at most ``options.decoder_steps`` steps -> (the adapted
    parameters by name, the log)."""
    check_decoder_adaptable(codec)
    start = time.perf_counter()
    hop = codec.hop_length
    frames = mean.shape[-1]
    held = int(round(frames * (1.0 - options.holdout)))
    if (frames - held) * hop < MIN_HELD_OUT_SAMPLES or held < 1:
        raise ValueError(f"a prompt of {frames} frames is too short to adapt the decoder to")
    codec = copy.deepcopy(codec).eval()
    trained = trainable(codec, decoder_adapted_names(codec))
    spectral = SpectralLoss(codec.sample_rate)
    target = torch.nn.functional.pad(wav, (0, max(0, frames * hop - wav.shape[-1])))
    target = target[: frames * hop].reshape(1, 1, -1)
    with torch.no_grad():
        features = codec.gaussian.proj_out(mean[None].float())  # [1, C, T], frozen

    def loss_of(prediction: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        parts = spectral(prediction, reference)
        return parts["mel"] + parts["logmag"] + parts["sc"]

    def step_loss() -> torch.Tensor:
        return loss_of(codec.decoder(features[..., :held]), target[..., : held * hop])

    def held_out_loss() -> float:
        # the decoder is causal: the end is rendered with the trained part as its left context
        return float(loss_of(codec.decoder(features)[..., held * hop :], target[..., held * hop :]))

    fit = HoldoutFit.of(options, decoder=True)
    kept, log = fit_with_holdout(trained, step_loss, held_out_loss, fit, progress)
    log.seconds = time.perf_counter() - start
    return kept, log


def decoder_adapted_copy(codec: PaletteCodec, tensors: dict[str, torch.Tensor]) -> PaletteCodec:
    """A copy of ``codec`` with the adapted decoder parameters ``tensors`` put in (``ValueError``
    for a name it does not adapt or a shape that differs)."""
    return copy_with(codec, tensors, decoder_adapted_names(codec))
