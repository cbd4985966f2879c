"""The palette codec's latent RVQ (codes of the Gaussian latent) and the recipe that fits it:
nearest-vector residual coding, decoding through the latent path, streaming, and a fitted
codec that keeps every other tensor of its source."""

import dataclasses

import numpy as np
import pytest
import torch

from palette.codec import FrameKind, load_codec
from palette.codec.bottleneck import LatentRVQ
from palette.codec.files import UserError
from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.recipes.corpus.synthetic_audio import synthetic_speech
from palette.recipes.libritts.fit_codes import FitCodesOptions, fit_codes, with_codes
from palette.recipes.libritts.train_codec import CodecTrainConfig, continuous_items

TINY = PaletteCodecConfig(
    dim=32,
    encoder_blocks=1,
    decoder_blocks=1,
    vocoder_blocks=1,
    kernel_size=5,
    num_codebooks=3,
    latent_dim=4,
    code_source="latent",
    codebook_size=8,
)


def tiny_codec(seed: int = 0) -> PaletteCodec:
    torch.manual_seed(seed)
    codec = PaletteCodec(TINY).eval()
    codec.rvq.codebooks.normal_()
    return codec


@pytest.fixture(scope="module")
def wav():
    clips = [synthetic_speech(1.0, seed=s)[: 24000 - 100] for s in (1, 2)]
    return torch.from_numpy(np.stack(clips))[:, None]  # [2, 1, 23900]


def test_each_stage_picks_the_nearest_vector_to_what_the_last_left():
    rvq = LatentRVQ(latent_dim=3, size=5, stages=2)
    rvq.codebooks.normal_(generator=torch.Generator().manual_seed(0))
    z = torch.randn(2, 3, 7, generator=torch.Generator().manual_seed(1))
    quantised, codes = rvq.quantize(z)
    assert codes.shape == (2, 2, 7) and codes.dtype == torch.int64
    rest = z.transpose(1, 2)
    for stage, book in enumerate(rvq.codebooks):
        brute = torch.cdist(rest, book[None].expand(2, -1, -1)).argmin(-1)
        assert torch.equal(codes[:, stage], brute)
        rest = rest - book[brute]
    torch.testing.assert_close(quantised, z - rest.transpose(1, 2))
    torch.testing.assert_close(rvq.dequantize(codes), quantised)
    first = rvq.codebooks[0][codes[:, 0]].transpose(1, 2)
    torch.testing.assert_close(rvq.dequantize(codes[:, :1]), first)


def test_bad_codes_and_sizes_are_refused():
    rvq = LatentRVQ(latent_dim=3, size=5, stages=2)
    with pytest.raises(ValueError, match="lie in"):
        rvq.dequantize(torch.full((1, 2, 4), 5))
    with pytest.raises(ValueError, match="3 codebooks"):
        rvq.dequantize(torch.zeros(1, 3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="vectors per codebook"):
        LatentRVQ(latent_dim=3, size=1, stages=2)
    with pytest.raises(ValueError, match="needs Gaussian latents"):
        PaletteCodecConfig(code_source="latent", latent_dim=0)
    with pytest.raises(ValueError, match="encoder or latent"):
        PaletteCodecConfig(code_source="mel")


def test_codes_decode_through_the_latent_path(wav):
    codec = tiny_codec()
    assert codec.fsq is None and codec.cardinality == 8 and not codec.config.trains_codes
    codes = codec.encode(wav)
    T = -(-wav.shape[-1] // codec.hop_length)
    assert codes.shape == (2, 3, T) and 0 <= codes.min() and codes.max() < 8
    mean, _ = codec.encode_latents(wav)
    assert torch.equal(codes, codec.rvq.quantize(mean)[1])
    torch.testing.assert_close(
        codec.decode(codes), codec.decode_latents(codec.rvq.dequantize(codes))
    )
    chunked = codec.decode_chunked(codes, 5, codec.receptive_field, FrameKind.CODES)
    torch.testing.assert_close(chunked, codec.decode(codes), atol=1e-5, rtol=0)


def test_codebooks_that_hold_the_latents_give_the_latent_round_trip(wav):
    source = tiny_codec()
    mean, _ = source.encode_latents(wav[:1])  # [1, D, T]
    T = mean.shape[-1]
    books = torch.zeros(2, T, TINY.latent_dim)
    books[0] = mean[0].T  # every frame is a vector of the first codebook
    codec = with_codes(source, books)
    codes = codec.encode(wav[:1])
    assert torch.equal(codes[0, 0], torch.arange(T)) and torch.all(codes[0, 1] == 0)
    torch.testing.assert_close(codec.decode(codes), source.decode_latents(mean))


def test_a_latent_coded_codec_trains_every_item_through_the_latents():
    config = CodecTrainConfig(corpus="unused")
    assert continuous_items(TINY, 4, config).all()
    encoder_codes = dataclasses.replace(TINY, code_source="encoder", fsq_levels=(4, 4))
    assert continuous_items(encoder_codes, 4, config).sum() == 2


def test_fit_codes_keeps_the_codec_and_fits_residual_stages(tmp_path, wav):
    import soundfile as sf

    source_cfg = dataclasses.replace(TINY, code_source="encoder", fsq_levels=(4, 4))
    torch.manual_seed(0)
    PaletteCodec(source_cfg).save_pretrained(tmp_path / "source")
    corpus = tmp_path / "corpus" / "1" / "10"
    corpus.mkdir(parents=True)
    for i, seed in enumerate((3, 4, 5)):
        sf.write(corpus / f"1_10_000001_{i:06d}.wav", synthetic_speech(2.0, seed=seed), 24000)
    options = FitCodesOptions(
        corpus=str(tmp_path / "corpus"),
        out=str(tmp_path / "out"),
        codec=str(tmp_path / "source"),
        codebooks=3,
        size=16,
        frames=600,
        held_out=200,
        crop_seconds=1.0,
        dtype="float32",
    )
    report = fit_codes(options)
    fitted = report["residual_fit"]
    assert len(fitted) == 3 and all(b < a for a, b in zip(fitted, fitted[1:], strict=False))
    assert fitted[0] < report["latent_variance"]
    assert report["residual_held_out"][-1] < report["latent_variance"]
    source, codec = load_codec(str(tmp_path / "source")), load_codec(str(tmp_path / "out"))
    assert codec.config.code_source == "latent" and codec.num_codebooks == 3
    kept = source.state_dict()
    new = codec.state_dict()
    assert set(new) == {k for k in kept if not k.startswith("fsq.")} | {"rvq.codebooks"}
    assert all(torch.equal(new[k], kept[k]) for k in new if k != "rvq.codebooks")
    mean, _ = codec.encode_latents(wav)
    error = [
        (mean - codec.rvq.dequantize(codec.encode(wav)[:, :q])).square().mean() for q in (1, 3)
    ]
    assert error[1] < error[0]
    with pytest.raises(UserError, match="cannot fit"):
        fit_codes(dataclasses.replace(options, frames=10, out=str(tmp_path / "too-few")))


def test_the_shipped_codecs_codes_approach_its_latent_round_trip(wav):
    codec = load_codec("palette-codec")
    assert codec.config.code_source == "latent" and codec.num_codebooks >= 4
    mean, _ = codec.encode_latents(wav)
    codes = codec.encode(wav)
    errors = [
        (codec.rvq.dequantize(codes[:, :q]) - mean).square().mean()
        for q in range(1, codec.num_codebooks + 1)
    ]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 0.05 * mean.var()
    latent_wav, code_wav = codec.decode_latents(mean), codec.decode(codes)
    assert (code_wav - latent_wav).square().mean() < 0.1 * latent_wav.square().mean()
