"""The codec training recipe on a tiny synthetic corpus in LibriTTS layout: crops, a short run
that writes a loadable codec, exact resume after an interruption, and the CLI."""

import csv
import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file

from palette.codec import load_codec
from palette.codec.palette_codec import PaletteCodec
from palette.recipes.corpus.synthetic_audio import synthetic_speech, write_synthetic_corpus
from palette.recipes.libritts import train_codec
from palette.recipes.libritts.train_codec import CodecTrainConfig, CropSampler, main, run
from palette.recipes.libritts.trainer import LoopOptions

from ..conftest import TINY_CODEC as TINY


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "train-clean-100"
    write_synthetic_corpus(root, speakers=2, utterances=2, seconds=0.6, seed=0)
    # a 16 kHz file (resampled when read) and one shorter than a crop (zero-padded)
    sf.write(
        root / "100" / "1000" / "100_1000_000001_000000.wav", synthetic_speech(0.5, 16000), 16000
    )
    sf.write(root / "101" / "1001" / "101_1001_000001_000000.wav", synthetic_speech(0.05), 24000)
    return root


def tiny_config(corpus, exp, steps=4, **loop) -> CodecTrainConfig:
    loop = LoopOptions(max_steps=steps, warmup_steps=2, log_every=1, ckpt_minutes=0.0, **loop)
    return CodecTrainConfig(
        corpus=str(corpus),
        exp=str(exp),
        batch_size=4,
        crop_seconds=0.2,
        epoch_steps=3,
        codec=TINY,
        loop=loop,
    )


def test_crop_sampler_draws_reproducible_crops(corpus):
    sampler = CropSampler(corpus, 24000, crop=4800, seed=1)
    assert len(sampler.files) == 6 and 0 < sampler.hours < 0.01
    state = sampler.state_dict()
    batch = sampler.batch(8, gain_db=(-6.0, 0.0))
    assert batch.shape == (8, 1, 4800) and batch.dtype == torch.float32
    assert batch.abs().max() <= 1.0 and batch.abs().amax(-1).min() > 0
    sampler.load_state_dict(state)
    assert torch.equal(sampler.batch(8, gain_db=(-6.0, 0.0)), batch)
    with pytest.raises(FileNotFoundError, match="no .wav files"):
        CropSampler(corpus / "nothing-here", 24000, 4800)


def test_short_run_writes_loadable_codec_and_log(corpus, tmp_path):
    torch.set_num_threads(1)
    run(tiny_config(corpus, tmp_path))
    codec = load_codec(str(tmp_path / "final"))
    assert isinstance(codec, PaletteCodec) and codec.config == TINY
    assert codec.encode(torch.zeros(1, 1, 4800)).shape == (1, 2, 10)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert {"loss", "mel", "logmag", "sc", "kl"} <= set(rows[0])
    assert all(np.isfinite(float(r["loss"])) for r in rows)
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "train_config.json").is_file()
    assert (
        next(iter(load_file(tmp_path / "final" / "model.safetensors").values())).dtype
        == torch.float16
    )


def test_resume_after_interruption_is_exact(corpus, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    run(tiny_config(corpus, tmp_path / "straight"))
    calls, real_loss = [], train_codec.codec_loss

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # dies during step 3; the checkpoint after step 2 survives
            raise KeyboardInterrupt
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(train_codec, "codec_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_config(corpus, tmp_path / "resumed"))
    monkeypatch.setattr(train_codec, "codec_loss", real_loss)
    assert torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)["step"] == 2
    run(tiny_config(corpus, tmp_path / "resumed"))
    straight = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)["model"]
    resumed = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)["model"]
    for name, value in straight.items():
        torch.testing.assert_close(resumed[name], value, msg=name)


def test_cli_trains_with_a_codec_config_file(corpus, tmp_path):
    config_file = tmp_path / "palette.codec.json"
    config_file.write_text(__import__("json").dumps(dataclasses.asdict(TINY)))
    out = tmp_path / "exp"
    args = [
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        "--minutes",
        "1",
        "--max-steps",
        "2",
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--codec-config",
        str(config_file),
    ]
    assert main(args) == 0
    assert load_codec(str(out / "final")).config == TINY


def test_codec_task_refuses_a_language_model_config():
    with pytest.raises(ValueError, match="corpus folder"):
        train_codec.codec_task(object())


def test_warm_start_begins_from_the_initial_codec(corpus, tmp_path):
    torch.manual_seed(3)
    PaletteCodec(TINY).save_pretrained(tmp_path / "init")
    initial = PaletteCodec.from_pretrained(tmp_path / "init")
    config = dataclasses.replace(
        tiny_config(corpus, tmp_path / "warm", steps=1), init=str(tmp_path / "init"), codec=None
    )
    task = train_codec.codec_task(config)  # the initial codec's sizes and weights
    for name, value in initial.state_dict().items():
        torch.testing.assert_close(task.model.state_dict()[name], value, msg=name)
    fresh = train_codec.codec_task(tiny_config(corpus, tmp_path / "fresh", steps=1))
    key = "decoder.vocoder.blocks.0.up.weight"
    assert not torch.equal(fresh.model.state_dict()[key], initial.state_dict()[key])
    missing = dataclasses.replace(config, init=str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="palette codec weights are missing"):
        train_codec.codec_task(missing)


def test_warm_start_grows_into_new_sizes(corpus, tmp_path):
    torch.manual_seed(3)
    PaletteCodec(TINY).save_pretrained(tmp_path / "init")
    initial = PaletteCodec.from_pretrained(tmp_path / "init").state_dict()
    wider = dataclasses.replace(TINY, latent_dim=TINY.latent_dim * 2, encoder_blocks=2)
    config = dataclasses.replace(
        tiny_config(corpus, tmp_path / "grown", steps=1),
        init=str(tmp_path / "init"),
        codec=wider,
        grow=True,
    )
    task = train_codec.codec_task(config)
    assert task.model.config == wider
    state = task.model.state_dict()
    for name in ("encoder.blocks.0.up.weight", "decoder.vocoder.head.proj.weight"):
        torch.testing.assert_close(state[name], initial[name], msg=name)  # kept
    assert state["gaussian.proj_in.weight"].shape[0] == 2 * wider.latent_dim  # fresh, new shape
    assert torch.equal(state["encoder.blocks.1.scale"], torch.zeros(TINY.dim))  # added: identity
    assert train_codec.run(config)["step"] == 1
