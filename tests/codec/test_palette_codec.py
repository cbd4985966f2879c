"""The palette codec: both modes, streaming = offline, storage, KL, a tiny overfit, the vocoder's
inverse STFT and the mel features. Tiny seeded models; the whole file runs in seconds."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from palette.codec import FrameKind, load_codec, registry
from palette.codec.bottleneck import gaussian_kl_to_standard
from palette.codec.losses import SpectralLoss
from palette.codec.mel import LogMel, mel_filterbank
from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.codec.vocoder import ISTFTHead
from palette.recipes.corpus.synthetic_audio import synthetic_speech

TINY = PaletteCodecConfig(
    dim=32,
    encoder_blocks=1,
    decoder_blocks=1,
    vocoder_blocks=1,
    kernel_size=5,
    fsq_levels=(5, 4, 3),
    num_codebooks=3,
    latent_dim=4,
)
STREAM_TOLERANCE = 1e-5  # max |chunked - full| with receptive_field frames of left context


def tiny_codec(config: PaletteCodecConfig = TINY, seed: int = 0, scale: float = 0.0):
    """A seeded codec; ``scale > 0`` redraws the weights larger so every path matters."""
    torch.manual_seed(seed)
    codec = PaletteCodec(config).eval()
    if scale:
        with torch.no_grad():
            for p in codec.parameters():
                p.normal_(0.0, scale)
    return codec


@pytest.fixture(scope="module")
def wav():
    clips = [synthetic_speech(1.0, seed=s)[: 24000 - 100] for s in (1, 2)]
    return torch.from_numpy(np.stack(clips))[:, None]  # [2, 1, 23900]: not whole frames


def test_default_sizes():
    codec = PaletteCodec()
    assert codec.sample_rate == 24000 and codec.hop_length == 480 and codec.frame_rate == 50.0
    assert codec.num_codebooks == 2 and codec.cardinality == 1000 and codec.latent_dim == 16
    assert codec.config.bitrate == pytest.approx(2 * np.log2(1000) * 50)
    assert 1.5e6 < codec.num_parameters() < 3.5e6


def test_shapes_dtypes_and_lengths_of_both_modes(wav):
    codec = tiny_codec()
    T = -(-wav.shape[-1] // codec.hop_length)  # ceil: the last partial frame is padded
    codes = codec.encode(wav)
    assert codes.shape == (2, 3, T) and codes.dtype == torch.int64
    assert codes.min() >= 0 and codes.max() < codec.cardinality == 60
    mean, logstd = codec.encode_latents(wav)
    assert mean.shape == logstd.shape == (2, 4, T) and mean.dtype == torch.float32
    for out in (codec.decode(codes), codec.decode(codes[:, :1]), codec.decode_latents(mean)):
        assert out.shape == (2, 1, T * codec.hop_length) and out.dtype == torch.float32
        assert torch.isfinite(out).all()


def test_codes_use_many_entries_and_decode_like_training_pass(wav):
    codec = tiny_codec(scale=0.3)
    codes = codec.encode(wav)
    assert codes[:, 0].unique().numel() > 10  # FSQ spreads frames over the grid
    with torch.no_grad():  # the training pass without dropout quantises the same way
        recon, kl = codec(wav, torch.tensor([False, False]))
    torch.testing.assert_close(recon, codec.decode(codes), atol=1e-5, rtol=1e-4)
    assert torch.equal(kl, torch.zeros(2))


def test_out_of_range_codes_are_rejected(wav):
    codec = tiny_codec()
    codes = codec.encode(wav)
    with pytest.raises(ValueError, match="codes must lie"):
        codec.decode(codes + codec.cardinality)
    with pytest.raises(ValueError, match="codebooks"):
        codec.decode(torch.cat([codes, codes[:, :1]], dim=1))


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("chunk", [1, 4, 13])
def test_chunked_decoding_equals_full_decoding(wav, continuous, chunk):
    codec = tiny_codec(scale=0.3)
    frames = codec.encode_latents(wav)[0] if continuous else codec.encode(wav)
    decode = codec.decode_latents if continuous else codec.decode
    kind = FrameKind.LATENTS if continuous else FrameKind.CODES
    full = decode(frames)
    assert full.abs().max() > 0.1
    chunked = codec.decode_chunked(frames, chunk, codec.receptive_field, kind=kind)
    assert chunked.shape == full.shape
    assert (chunked - full).abs().max() < STREAM_TOLERANCE
    # too little context: the causal decoder really looks that far back
    short = codec.decode_chunked(frames, chunk, codec.receptive_field // 3, kind=kind)
    assert (short - full).abs().max() > 1e-3


def test_receptive_field_of_default_codec():
    codec = PaletteCodec()
    # 3 blocks x 6 frames at 50 Hz + ceil((3 x 6 + 3 overlapping iSTFT frames) / 2) at 100 Hz
    assert codec.receptive_field == 18 + 11


def test_save_load_round_trip_through_registry(tmp_path, wav):
    codec = tiny_codec(scale=0.3)
    codec.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["codec"] == "palette"
    loaded = load_codec(str(tmp_path))
    assert isinstance(loaded, PaletteCodec) and loaded.config == codec.config
    codes = codec.encode(wav)
    assert torch.equal(loaded.encode(wav), codes)
    assert torch.equal(loaded.decode(codes), codec.decode(codes))
    mean = codec.encode_latents(wav)[0]
    assert torch.equal(loaded.decode_latents(mean), codec.decode_latents(mean))
    # float16 storage (the shipped weights) only rounds the weights
    codec.save_pretrained(tmp_path / "half", dtype=torch.float16)
    half = load_codec(str(tmp_path / "half"))
    assert next(half.parameters()).dtype == torch.float32
    out, ref = half.decode_latents(mean), codec.decode_latents(mean)
    assert (out - ref).abs().max() < 0.02 * ref.abs().max()
    with pytest.raises(ValueError, match="no loading options"):
        load_codec(str(tmp_path), bandwidth=6.0)


def test_missing_weights_name_the_missing_file(tmp_path, monkeypatch):
    loader, _ = registry._REGISTRY["palette-codec"]
    monkeypatch.setitem(registry._REGISTRY, "palette-codec", (loader, str(tmp_path)))
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_codec("palette-codec")
    (tmp_path / "config.json").write_text(json.dumps(TINY.to_dict()))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_codec("palette-codec")


def test_registered_name_loads_shipped_weights_or_says_what_is_missing():
    try:
        codec = load_codec("palette-codec")
    except FileNotFoundError as err:
        assert "codec/weights/palette-codec" in str(err)
    else:
        assert isinstance(codec, PaletteCodec) and codec.frame_rate <= 50


def test_kl_term_matches_closed_form(wav):
    mean, logstd = torch.randn(3, 5, 7), 0.5 * torch.randn(3, 5, 7)
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, logstd.exp()), torch.distributions.Normal(0.0, 1.0)
    )
    torch.testing.assert_close(gaussian_kl_to_standard(mean, logstd), reference)
    codec = tiny_codec(scale=0.3)
    mean, logstd = codec.encode_latents(wav)
    expected = (0.5 * (mean**2 + (2 * logstd).exp() - 1) - logstd).sum(1).mean(1)
    with torch.no_grad():
        _, kl = codec(wav, torch.tensor([True, False]))
    torch.testing.assert_close(kl, torch.stack([expected[0], torch.tensor(0.0)]))


def test_config_switches_and_validation(wav):
    latents_only = tiny_codec(dataclasses.replace(TINY, num_codebooks=0))
    assert not latents_only.has_codes and latents_only.cardinality == 0
    assert latents_only.decode_latents(latents_only.encode_latents(wav)[0]).shape[-1] == 50 * 480
    with pytest.raises(NotImplementedError, match="discrete codes"):
        latents_only.encode(wav)
    codes_only = tiny_codec(dataclasses.replace(TINY, latent_dim=0))
    with pytest.raises(NotImplementedError, match="Gaussian latents"):
        codes_only.encode_latents(wav)
    with pytest.raises(ValueError, match="codebooks, latents or both"):
        PaletteCodecConfig(num_codebooks=0, latent_dim=0)
    with pytest.raises(ValueError, match="unknown palette codec config fields"):
        PaletteCodecConfig.from_dict({"codec": "palette", "width": 3})


def test_tiny_codec_overfits_one_clip():
    torch.manual_seed(0)
    clip = torch.from_numpy(synthetic_speech(0.5, seed=3))[None, None]  # [1, 1, 12000]
    codec = PaletteCodec(TINY).train()
    loss_fn = SpectralLoss(24000)
    opt = torch.optim.Adam(codec.parameters(), lr=3e-3)
    losses = []
    for step in range(40):
        recon, kl = codec(clip, torch.tensor([step % 2 == 1]))
        parts = loss_fn(recon, clip)
        loss = parts["mel"] + parts["logmag"] + parts["sc"] + 1e-3 * kl.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(parts["mel"].item())
    assert np.mean(losses[-4:]) < 0.5 * np.mean(losses[:4])


def test_causal_inverse_stft_inverts_causally_framed_stft():
    head = ISTFTHead(dim=4, n_fft=64, hop=16)
    torch.manual_seed(0)
    x = torch.randn(2, 1, 16 * 20 + 64)
    frames = x[:, 0].unfold(-1, 64, 16)[:, :20] * head.window  # frame k = x[16k : 16k + 64]
    y = head.synthesize(torch.fft.rfft(frames, dim=-1).transpose(1, 2))
    assert y.shape == (2, 1, 320)
    torch.testing.assert_close(y[..., 48:], x[..., 48:320])  # after the fade-in of 3 frames


def test_log_mel_frames_and_filterbank():
    mel = LogMel(n_fft=1024, hop_length=240, n_mels=80)
    assert mel(torch.zeros(1, 1, 4800)).shape == (1, 80, 20)
    tone = torch.sin(2 * torch.pi * 1000 * torch.arange(24000) / 24000)[None, None]
    peak = mel(tone).mean(-1).argmax().item()
    centres = mel_filterbank(24000, 1024, 80).argmax(1) * 24000 / 1024
    assert abs(centres[peak].item() - 1000) < 120
    librosa = pytest.importorskip("librosa")  # installed with the eval extra (resemblyzer)
    ref = librosa.filters.mel(sr=24000, n_fft=1024, n_mels=80, fmax=12000)
    np.testing.assert_allclose(mel_filterbank(24000, 1024, 80, 0, 12000).numpy(), ref, atol=1e-6)
