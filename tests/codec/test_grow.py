"""Growing a codec. Deepening its decoder: the deeper codec decodes exactly as the original,
streams as it decodes with its larger receptive field, trains its new blocks, refuses to shrink,
and the adversarial fine-tune deepens before it trains. Growing into other sizes keeps every
tensor that fits and names the rest."""

import dataclasses

import numpy as np
import pytest
import torch

from palette.codec import FrameKind, load_codec
from palette.codec.files import UserError
from palette.codec.grow import deepen, grow
from palette.codec.losses import SpectralLoss
from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.recipes.corpus.synthetic_audio import synthetic_speech, write_synthetic_corpus
from palette.recipes.libritts.finetune_codec import main

TINY = PaletteCodecConfig(
    dim=32, encoder_blocks=1, decoder_blocks=1, vocoder_blocks=1, kernel_size=5,
    fsq_levels=(5, 4, 3), num_codebooks=3, latent_dim=4,
)  # fmt: skip


@pytest.fixture(scope="module")
def codec():
    torch.manual_seed(0)
    model = PaletteCodec(TINY).eval()
    with torch.no_grad():  # large random weights, so that every block changes the output
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    return model


@pytest.fixture(scope="module")
def wav():
    return torch.from_numpy(synthetic_speech(0.6, seed=3)).float()[None, None]


def test_deeper_codec_decodes_exactly_as_the_original(codec, wav):
    deeper = deepen(codec, decoder_blocks=3, vocoder_blocks=2)
    assert (deeper.config.decoder_blocks, deeper.config.vocoder_blocks) == (3, 2)
    assert len(deeper.decoder.blocks) == 3 and len(deeper.decoder.vocoder.blocks) == 2
    assert deeper.num_parameters() > codec.num_parameters()
    assert deeper.receptive_field > codec.receptive_field
    codes, (mean, _) = codec.encode(wav), codec.encode_latents(wav)
    assert torch.equal(deeper.encode(wav), codes)
    assert torch.equal(deeper.decode(codes), codec.decode(codes))
    assert torch.equal(deeper.decode_latents(mean), codec.decode_latents(mean))
    assert not deeper.training  # the original's mode
    unchanged = deepen(codec)  # 0: as many blocks as now
    assert torch.equal(unchanged.decode_latents(mean), codec.decode_latents(mean))


def test_deeper_codec_streams_as_it_decodes_once_trained(codec, wav):
    deeper = deepen(codec, decoder_blocks=2, vocoder_blocks=2)
    with torch.no_grad():  # as after training: the new blocks are no longer the identity
        for block in (deeper.decoder.blocks[1], deeper.decoder.vocoder.blocks[1]):
            block.scale.fill_(0.5)
    mean, _ = deeper.encode_latents(wav)
    full = deeper.decode_latents(mean)
    assert not torch.allclose(full, codec.decode_latents(mean), atol=1e-3)
    chunked = deeper.decode_chunked(mean, 4, deeper.receptive_field, FrameKind.LATENTS)
    torch.testing.assert_close(chunked, full, atol=1e-5, rtol=1e-4)
    short = deeper.decode_chunked(mean, 4, codec.receptive_field, FrameKind.LATENTS)
    assert (short - full).abs().max() > 1e-4  # the old receptive field is no longer enough


def test_new_blocks_train_and_the_loss_falls(codec, wav):
    torch.manual_seed(0)
    deeper = deepen(codec, decoder_blocks=2).train()
    new = deeper.decoder.blocks[1]
    params = list(deeper.decoder.parameters())
    optim = torch.optim.Adam(params, lr=3e-3)
    spectral = SpectralLoss(TINY.sample_rate)
    mean = codec.encode_latents(wav)[0].clone()  # a normal tensor, not an inference one
    losses = []
    for _ in range(25):
        parts = spectral(deeper.decoder(deeper.gaussian.proj_out(mean)), wav)
        loss = parts["mel"] + parts["logmag"] + parts["sc"]
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert new.scale.abs().max() > 0 and new.up.weight.grad.abs().sum() > 0
    assert losses[-1] < 0.9 * losses[0]


def test_deepen_refuses_to_remove_blocks(codec):
    with pytest.raises(UserError, match="adds blocks"):
        deepen(deepen(codec, decoder_blocks=2), decoder_blocks=1)


def test_finetune_deepens_first(tmp_path):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    init = tmp_path / "codec"
    PaletteCodec(TINY).save_pretrained(init)
    corpus = tmp_path / "corpus" / "train-clean-100"
    write_synthetic_corpus(corpus, speakers=2, utterances=2, seconds=0.6, seed=0)
    out = tmp_path / "gan"
    argv = [f"--corpus={corpus}", f"--init={init}", f"--out={out}", "--max-steps=2"]
    argv += ["--batch-size=2", "--ckpt-minutes=0", "--decoder-blocks=2", "--vocoder-blocks=3"]
    assert main(argv) == 0
    tuned = load_codec(str(out / "final"))
    assert (tuned.config.decoder_blocks, tuned.config.vocoder_blocks) == (2, 3)
    x = torch.from_numpy(np.asarray(synthetic_speech(0.4, seed=1), np.float32))[None, None]
    assert torch.equal(tuned.encode(x), load_codec(str(init)).encode(x))  # encoder untouched


def test_grow_keeps_what_fits_and_names_the_rest(codec):
    wider = dataclasses.replace(TINY, latent_dim=8, encoder_blocks=2)
    grown, fresh = grow(codec, wider)
    assert grown.config == wider and not grown.training
    assert set(fresh) >= {"gaussian.proj_in.weight", "gaussian.proj_out.weight"}
    assert "encoder.blocks.1.up.weight" in fresh and "encoder.blocks.0.up.weight" not in fresh
    assert torch.equal(grown.encoder.blocks[1].scale, torch.zeros(TINY.dim))
    old = codec.state_dict()
    for name, value in grown.state_dict().items():
        if name not in fresh:
            assert torch.equal(value, old[name]), name
