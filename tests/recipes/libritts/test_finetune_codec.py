"""The adversarial codec fine-tune: each player gets only its own gradients from the one
backward pass, the discriminators learn to tell real from generated audio, the frozen encoder
side keeps codes and latents, a short run writes a loadable codec, and the manifest rule that
keeps band-limited speakers out of codec training."""

import csv
import json
import shutil

import pytest
import soundfile as sf
import torch

from palette.codec import load_codec
from palette.codec.discriminators import (
    DiscriminatorConfig,
    Discriminators,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
)
from palette.codec.files import UserError
from palette.codec.losses import SpectralLoss
from palette.codec.palette_codec import PaletteCodec
from palette.recipes.corpus.synthetic_audio import synthetic_speech, write_synthetic_corpus
from palette.recipes.libritts.finetune_codec import CodecGan, CodecGanConfig, main
from palette.recipes.libritts.train_codec import CodecTrainConfig, CropSampler
from palette.recipes.libritts.trainer import LoopOptions

from ..conftest import TINY_CODEC as TINY

SMALL_D = DiscriminatorConfig(
    periods=(2, 3), period_channels=(4, 8), resolutions=((256, 64),), resolution_channels=4
)


@pytest.fixture(scope="module")
def codec_dir(tmp_path_factory):
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("codec")
    PaletteCodec(TINY).save_pretrained(directory, dtype=torch.float16)
    return directory


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus") / "train-clean-100"
    write_synthetic_corpus(root, speakers=2, utterances=2, seconds=0.6, seed=0)
    return root


def gan_config(corpus, exp, steps=3) -> CodecGanConfig:
    loop = LoopOptions(max_steps=steps, warmup_steps=1, log_every=1, ckpt_minutes=0.0)
    data = CodecTrainConfig(
        corpus=str(corpus), exp=str(exp), batch_size=4, crop_seconds=0.2, epoch_steps=3, loop=loop
    )
    return CodecGanConfig(init="", data=data, discriminators=SMALL_D)


def speech(batch=4, seconds=0.2):
    return torch.stack(
        [torch.from_numpy(synthetic_speech(seconds, seed=i)).float()[None] for i in range(batch)]
    )


def test_discriminator_outputs_and_losses():
    torch.manual_seed(0)
    d = Discriminators(SMALL_D)
    wav = speech(2)
    outputs = d(wav)
    assert len(outputs) == 3
    for logits, features in outputs:
        assert logits.shape[0] == 2 and features[-1] is logits and len(features) >= 3
    assert discriminator_loss(outputs, outputs).item() > 0
    assert feature_matching_loss(outputs, outputs).item() == 0.0
    perfect = [(torch.ones_like(x), f) for x, f in outputs]
    assert generator_loss(perfect).item() == 0.0
    with pytest.raises(ValueError):  # one list shorter than the other
        discriminator_loss(outputs, outputs[:1])


def test_one_backward_gives_each_player_only_its_own_gradients(codec_dir, corpus, tmp_path):
    torch.manual_seed(0)
    config = gan_config(corpus, tmp_path)
    model = CodecGan(PaletteCodec.from_pretrained(codec_dir), Discriminators(SMALL_D))
    wav = speech()
    spectral = SpectralLoss(TINY.sample_rate)

    def grads(term):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)
        model.losses(wav, spectral, config)[term].backward()
        return {n: p.grad for n, p in model.named_parameters() if p.grad is not None}

    adversarial = grads("adv")  # the generator's GAN term: decoder only
    assert adversarial and all(n.startswith("codec.") for n in adversarial)
    assert any(g.abs().sum() > 0 for g in adversarial.values())
    disc = grads("disc")  # the discriminators' term: discriminators only
    assert disc and all(n.startswith("discriminators.") for n in disc)
    everything = grads("loss")
    frozen = [n for n in everything if n.startswith(("codec.encoder.", "codec.fsq.proj_in"))]
    assert not frozen  # the encoder side never trains
    # the total's discriminator gradients are exactly the discriminator term's
    for name, g in disc.items():
        torch.testing.assert_close(everything[name], g)


def test_discriminators_learn_to_separate_real_from_generated(codec_dir, corpus, tmp_path):
    torch.manual_seed(0)
    config = gan_config(corpus, tmp_path)
    model = CodecGan(PaletteCodec.from_pretrained(codec_dir), Discriminators(SMALL_D))
    optim = torch.optim.Adam(model.discriminators.parameters(), lr=2e-3)
    spectral = SpectralLoss(TINY.sample_rate)
    wav = speech()
    losses = []
    for _ in range(60):
        torch.manual_seed(1)
        loss = model.losses(wav, spectral, config)["disc"]
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_short_run_keeps_codes_and_writes_codec(codec_dir, corpus, tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "gan"
    argv = [f"--corpus={corpus}", f"--init={codec_dir}", f"--out={out}", "--max-steps=3"]
    argv += ["--batch-size=4", "--ckpt-minutes=0"]
    assert main(argv) == 0
    tuned, initial = load_codec(str(out / "final")), load_codec(str(codec_dir))
    wav = speech(1, 0.4)
    assert torch.equal(tuned.encode(wav), initial.encode(wav))  # frozen encoder side
    torch.testing.assert_close(
        tuned.encode_latents(wav)[0], initial.encode_latents(wav)[0], atol=1e-2, rtol=1e-2
    )  # fp16 rounding of the saved weights only
    key = "vocoder.head.proj.weight"
    assert not torch.equal(tuned.decoder.state_dict()[key], initial.decoder.state_dict()[key])
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [3]  # a row every 20 steps and at the last
    assert {"adv", "fm", "disc", "mel"} <= set(rows[0])


def test_missing_init_codec_is_a_clear_error(corpus, tmp_path, capsys):
    argv = [f"--corpus={corpus}", f"--init={tmp_path / 'none'}", f"--out={tmp_path / 'o'}"]
    assert main(argv) != 0
    assert "palette codec weights are missing" in capsys.readouterr().err


def test_band_limited_and_unshippable_speakers_are_left_out_of_codec_crops(tmp_path):
    root = tmp_path / "many"
    subset = root / "train-clean-100"
    for speaker in ("11", "12", "13"):
        folder = subset / speaker / "1"
        folder.mkdir(parents=True)
        sf.write(folder / f"{speaker}_1_000001_000000.wav", synthetic_speech(0.3), 24000)
    speakers = [
        {"speaker_id": 11, "codec_training": True, "shippable": True},
        {"speaker_id": 12, "codec_training": False, "shippable": True},
        {"speaker_id": 13, "codec_training": True, "shippable": False},  # e.g. MBROLA
    ]
    (root / "MANY_CORPUS.json").write_text(json.dumps({"speakers": speakers}))
    names = lambda sampler: [f.name.split("_")[0] for f in sampler.files]  # noqa: E731
    assert names(CropSampler(subset, 24000, crop=2400)) == ["11", "13"]
    assert names(CropSampler(subset, 24000, crop=2400, licence="shippable")) == ["11"]
    plain = tmp_path / "plain"  # not a many-voice corpus: nothing says which voices may ship
    shutil.copytree(subset / "11", plain / "11")
    with pytest.raises(UserError, match="many-voice corpus"):
        CropSampler(plain, 24000, crop=2400, licence="shippable")
