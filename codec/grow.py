"""Grow a trained palette codec: more blocks or other sizes, starting from what it learned.

A ConvNeXt block adds ``scale * f(x)`` to its input; with ``scale`` zero it is the identity.
:func:`grow` builds a codec of a new :class:`~palette.codec.palette_codec.PaletteCodecConfig`
and copies every tensor of the trained one whose name and shape it still has; the ConvNeXt
blocks it adds to a stack start with zero layer scale. :func:`deepen` is the case that changes
nothing a codec's users rely on: blocks appended to the decoder's two causal stacks, so the
deeper codec decodes exactly as the original did (same encoder, latents, codes and waveform;
the receptive field grows by ``kernel_size - 1`` frames per block) and a decoder-only fine-tune
(``recipes/libritts/finetune_codec.py --decoder-blocks N``) starts from the trained codec rather
than from scratch. Other growth (a wider latent, another width) starts a whole-codec training
(``recipes/libritts/train_codec.py --init DIR --codec-config JSON``) from the tensors that fit.
"""

from __future__ import annotations

import dataclasses

import torch

from palette.codec.files import UserError
from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig

STACKS = (  # (a ConvNeXt stack's module path, the config field of its length)
    ("encoder.blocks", "encoder_blocks"),
    ("decoder.blocks", "decoder_blocks"),
    ("decoder.vocoder.blocks", "vocoder_blocks"),
)


def added_blocks(old: PaletteCodecConfig, new: PaletteCodecConfig) -> list[str]:
    """Module paths of the ConvNeXt blocks that ``new`` has beyond ``old``'s, stack by stack."""
    return [
        f"{path}.{i}"
        for path, field in STACKS
        for i in range(getattr(old, field), getattr(new, field))
    ]


def grow(codec: PaletteCodec, config: PaletteCodecConfig) -> tuple[PaletteCodec, list[str]]:
    """A codec of ``config`` holding ``codec``'s tensors wherever name and shape agree; returns
    it (in ``codec``'s train/eval mode) and the names of the tensors it did not get."""
    grown = PaletteCodec(config)
    old = codec.state_dict()
    state = grown.state_dict()
    fresh = [k for k, v in state.items() if k not in old or old[k].shape != v.shape]
    grown.load_state_dict({k: old[k] for k in state if k not in fresh}, strict=False)
    with torch.no_grad():
        for path in added_blocks(codec.config, config):
            grown.get_submodule(path).scale.zero_()
    return grown.train(codec.training), fresh


def deepen(codec: PaletteCodec, decoder_blocks: int = 0, vocoder_blocks: int = 0) -> PaletteCodec:
    """A copy of ``codec`` with ``decoder_blocks`` / ``vocoder_blocks`` blocks in its decoder's
    two stacks (0: as many as now); the added blocks come last, as the identity."""
    old = codec.config
    decoder_blocks = decoder_blocks or old.decoder_blocks
    vocoder_blocks = vocoder_blocks or old.vocoder_blocks
    if decoder_blocks < old.decoder_blocks or vocoder_blocks < old.vocoder_blocks:
        raise UserError(
            f"deepen adds blocks: the codec has {old.decoder_blocks} decoder and "
            f"{old.vocoder_blocks} vocoder blocks, asked for {decoder_blocks} and {vocoder_blocks}"
        )
    config = dataclasses.replace(old, decoder_blocks=decoder_blocks, vocoder_blocks=vocoder_blocks)
    deeper, fresh = grow(codec, config)
    added = tuple(f"{path}." for path in added_blocks(old, config))
    stray = [k for k in fresh if not k.startswith(added)]
    if stray:
        raise RuntimeError(f"deepen: tensors that do not line up: {stray}")
    return deeper
