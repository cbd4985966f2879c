"""EnCodec through the real loading path, with a tiny randomly initialised checkpoint."""

import pytest
import torch

from palette.codec import DecodeState, available_codecs, load_codec
from palette.codec.encodec import EncodecCodec


@pytest.fixture(scope="module")
def tiny_encodec_dir(tmp_path_factory):
    from transformers import EncodecConfig, EncodecModel

    config = EncodecConfig(
        num_filters=4, hidden_size=16, codebook_size=64, codebook_dim=16, num_lstm_layers=1
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("encodec")
    EncodecModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def wav():
    torch.manual_seed(1)
    return 0.1 * torch.randn(2, 1, 24000)


def test_loads_local_checkpoint_through_registry(tiny_encodec_dir):
    codec = load_codec(str(tiny_encodec_dir), bandwidth=3.0)
    assert isinstance(codec, EncodecCodec)
    assert codec.sample_rate == 24000 and codec.frame_rate == 75.0 and codec.cardinality == 64


@pytest.mark.parametrize("bandwidth,codebooks", [(1.5, 3), (3.0, 6), (6.0, 13)])
def test_bandwidth_sets_number_of_codebooks(tiny_encodec_dir, wav, bandwidth, codebooks):
    codec = load_codec(str(tiny_encodec_dir), bandwidth=bandwidth)
    codes = codec.encode(wav)
    assert codec.num_codebooks == codebooks
    assert codes.shape == (2, codebooks, 75) and codes.dtype == torch.int64
    assert 0 <= codes.min() and codes.max() < codec.cardinality
    assert codec.decode(codes).shape == (2, 1, 24000)


def test_unknown_bandwidth_is_an_error(tiny_encodec_dir):
    with pytest.raises(ValueError, match="bandwidth 5.0"):
        load_codec(str(tiny_encodec_dir), bandwidth=5.0)


def test_chunked_decoding_with_left_context_matches_full(tiny_encodec_dir, wav):
    codec = load_codec(str(tiny_encodec_dir), bandwidth=3.0)
    codes = codec.encode(wav)
    full = codec.decode(codes)
    chunked = codec.decode_chunked(codes, chunk=8, context=40)
    assert chunked.shape == full.shape
    assert torch.allclose(chunked, full, atol=1e-4)
    # no context: the decoder restarts every chunk and the output differs
    assert not torch.allclose(codec.decode_chunked(codes, chunk=8, context=0), full, atol=1e-4)


def test_decode_chunk_state_keeps_only_context_frames(tiny_encodec_dir, wav):
    codec = load_codec(str(tiny_encodec_dir), bandwidth=3.0)
    codes = codec.encode(wav)
    out, state = codec.decode_chunk(codes[..., :30], DecodeState(context=10))
    assert out.shape[-1] == 30 * codec.hop_length
    assert torch.equal(state.frames, codes[..., 20:30])


def test_missing_weights_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("palette.codec.encodec._hub_reachable", lambda: False)
    with pytest.raises(FileNotFoundError, match="not available"):
        load_codec("facebook/encodec_24khz")
    (tmp_path / "config.json").write_text('{"model_type": "encodec"}')
    with pytest.raises(FileNotFoundError, match="not available"):
        load_codec(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_codec(str(tmp_path / ".."))


def test_unknown_codec_name_lists_the_registered_ones():
    assert "encodec_24khz" in available_codecs()
    with pytest.raises(KeyError, match="encodec_24khz"):
        load_codec("no-such-codec")
