"""Deepen a trained palette codec's decoder without changing what it does.

A ConvNeXt block adds ``scale * f(x)`` to its input; with ``scale`` zero it is the identity.
:func:`deepen` appends such blocks to the decoder's and the vocoder's causal stacks, so the
deepened codec decodes exactly as the original did (same encoder, latents, codes and waveform)
and a decoder-only fine-tune (``recipes/libritts/finetune_codec.py --decoder-blocks N``) starts
from the trained codec rather than from scratch. Everything a codec's users rely on stays: the
latent interface the language models were trained on, the fitted latent codes, causality (the
receptive field grows by ``kernel_size - 1`` frames per block).
"""

from __future__ import annotations

import dataclasses

import torch

from palette.codec.files import UserError
from palette.codec.palette_codec import PaletteCodec


def deepen(codec: PaletteCodec, decoder_blocks: int = 0, vocoder_blocks: int = 0) -> PaletteCodec:
    """A copy of ``codec`` with ``decoder_blocks`` / ``vocoder_blocks`` blocks in its decoder's
    two stacks (0: as many as now); the added blocks come last, with zero layer scale."""
    old = codec.config
    decoder_blocks = decoder_blocks or old.decoder_blocks
    vocoder_blocks = vocoder_blocks or old.vocoder_blocks
    if decoder_blocks < old.decoder_blocks or vocoder_blocks < old.vocoder_blocks:
        raise UserError(
            f"deepen adds blocks: the codec has {old.decoder_blocks} decoder and "
            f"{old.vocoder_blocks} vocoder blocks, asked for {decoder_blocks} and {vocoder_blocks}"
        )
    config = dataclasses.replace(old, decoder_blocks=decoder_blocks, vocoder_blocks=vocoder_blocks)
    deeper = PaletteCodec(config)
    missing, unexpected = deeper.load_state_dict(codec.state_dict(), strict=False)
    new = {f"decoder.blocks.{i}." for i in range(old.decoder_blocks, decoder_blocks)}
    new |= {f"decoder.vocoder.blocks.{i}." for i in range(old.vocoder_blocks, vocoder_blocks)}
    stray = [k for k in missing if not any(k.startswith(prefix) for prefix in new)]
    if unexpected or stray:
        raise RuntimeError(f"deepen: weights that do not line up: {unexpected + stray}")
    added = [
        *list(deeper.decoder.blocks)[old.decoder_blocks :],
        *list(deeper.decoder.vocoder.blocks)[old.vocoder_blocks :],
    ]
    with torch.no_grad():
        for block in added:
            block.scale.zero_()
    return deeper.train(codec.training)
