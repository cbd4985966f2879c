"""EnCodec through the real loading path, with a tiny randomly initialised checkpoint."""

import pytest
import torch

from palette.codec import DecodeState, UserError, available_codecs, load_codec
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
    monkeypatch.delenv("PALETTE_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.setattr("palette.codec.encodec._hub_reachable", lambda: False)
    with pytest.raises(FileNotFoundError, match="downloads are off"):
        load_codec("facebook/encodec_24khz")
    with pytest.raises(FileNotFoundError, match="cannot be reached"):
        load_codec("facebook/encodec_24khz", allow_download=True)
    (tmp_path / "config.json").write_text('{"model_type": "encodec"}')
    with pytest.raises(FileNotFoundError, match="no model.safetensors"):
        load_codec(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_codec(str(tmp_path / ".."))


def test_pickled_weights_are_refused(tiny_encodec_dir, tmp_path):
    """A directory with only pytorch_model.bin is never unpickled."""
    import shutil

    from safetensors.torch import load_file

    pickled = tmp_path / "pickled"
    pickled.mkdir()
    torch.save(load_file(tiny_encodec_dir / "model.safetensors"), pickled / "pytorch_model.bin")
    shutil.copy(tiny_encodec_dir / "config.json", pickled / "config.json")
    with pytest.raises(FileNotFoundError, match="pickled pytorch_model.bin"):
        load_codec(str(pickled))


def test_corrupt_safetensors_is_one_line_error(tiny_encodec_dir, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_encodec_dir, bad)
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot load EnCodec checkpoint") as err:
        load_codec(str(bad))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("env,allowed", [("", False), ("1", True), ("0", False)])
def test_the_hub_is_asked_only_when_downloads_are_allowed(monkeypatch, env, allowed):
    from transformers import EncodecModel

    calls = []

    def fake(name, **kwargs):
        calls.append(kwargs)
        raise OSError("not cached")

    monkeypatch.setenv("PALETTE_ALLOW_DOWNLOAD", env)
    monkeypatch.setattr(EncodecModel, "from_pretrained", fake)
    monkeypatch.setattr("palette.codec.encodec._hub_reachable", lambda: True)
    with pytest.raises(FileNotFoundError):
        load_codec("encodec_24khz")
    assert all(c["use_safetensors"] for c in calls)
    online = [c for c in calls if not c.get("local_files_only")]
    assert len(online) == (1 if allowed else 0)


def test_unknown_codec_name_lists_the_registered_ones():
    assert "encodec_24khz" in available_codecs()
    with pytest.raises(UserError, match="encodec_24khz"):
        load_codec("no-such-codec")
