"""Every language-model stage trains through the one entry point on the prepared tiny corpus."""

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from palette.recipes.libritts.features import FeatureOptions, extract_features
from palette.recipes.libritts.prepare import add_phonemes, available_parts, prepare_manifests
from palette.recipes.libritts.train import load_config, run
from palette.recipes.libritts.trainer import LoopOptions


@pytest.fixture(scope="module")
def prepared(tiny_corpus, tmp_path_factory):
    from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig

    torch.manual_seed(0)
    codec_dir = tmp_path_factory.mktemp("codec")
    PaletteCodec(
        PaletteCodecConfig(
            dim=32, encoder_blocks=1, decoder_blocks=1, vocoder_blocks=1, latent_dim=4
        )
    ).save_pretrained(codec_dir)
    root, _ = tiny_corpus
    out = tmp_path_factory.mktemp("prep")
    parts = available_parts(root)
    prepare_manifests(root, out, parts)
    add_phonemes(out, parts)
    extract_features(out, parts, FeatureOptions(codec=str(codec_dir)))
    return out, codec_dir, parts


def tiny_options(prepared) -> dict:
    """Training options of a tiny, fast stage on the prepared corpus."""
    out, codec_dir, parts = prepared
    return {
        "manifests": str(out),
        "codec": str(codec_dir),
        "subset": ",".join(parts),
        "dim": 32,
        "layers": 1,
        "heads": 2,
        "max_duration": 30.0,
        "num_buckets": 2,
        "warmup_steps": 1,
        "log_every": 1,
    }


def losses(exp):
    with open(exp / "log.csv") as fh:
        return [float(r["loss"]) for r in csv.DictReader(fh)]


@pytest.mark.parametrize(
    "stage,extra", [("ar", {"patch": 2}), ("nar", {}), ("kalle", {}), ("par", {})]
)
def test_stage_trains_and_exports(prepared, tmp_path, stage, extra):
    exp = tmp_path / stage
    options = {"stage": stage, "exp": str(exp), "max_steps": 4, **extra}
    config = load_config(None, tiny_options(prepared) | options)
    run(config)
    assert len(losses(exp)) == 4 and all(x == x for x in losses(exp))  # logged, finite
    assert (exp / "final" / "model.safetensors").is_file() and (exp / "checkpoint.pt").is_file()


def test_refine_starts_from_par_weights(prepared, tmp_path):
    common = tiny_options(prepared)
    run(load_config(None, common | {"stage": "par", "exp": str(tmp_path / "par"), "max_steps": 2}))
    refine = load_config(
        None,
        common
        | {
            "stage": "refine",
            "exp": str(tmp_path / "refine"),
            "init": str(tmp_path / "par" / "final"),
            "max_steps": 2,
        },
    )
    run(refine)
    assert (tmp_path / "refine" / "final" / "model.safetensors").is_file()
    bad = load_config(
        None,
        common
        | {
            "stage": "refine",
            "exp": str(tmp_path / "bad"),
            "dim": 64,
            "init": str(tmp_path / "par" / "final"),
            "max_steps": 1,
        },
    )
    with pytest.raises(ValueError, match="different model config"):
        run(bad)


def test_kalle_warm_starts_from_the_par_stage(prepared, tmp_path):
    from palette.models.config import load_checkpoint
    from palette.models.loading import build_model
    from palette.recipes.libritts.lm_data import read_meta
    from palette.recipes.libritts.lm_task import model_config, warm_start

    out, codec_dir, parts = prepared
    common = tiny_options(prepared) | {"max_steps": 2}
    par = tmp_path / "par"
    run(load_config(None, common | {"stage": "par", "exp": str(par), "latents": True}))
    meta = read_meta(str(out), str(codec_dir))
    kalle = build_model(model_config(load_config(None, common | {"stage": "kalle"}), meta))
    before = {k: v.clone() for k, v in kalle.state_dict().items()}
    copied = warm_start(kalle, str(par / "final"), meta["symbols"])
    _, saved = load_checkpoint(par / "final")
    assert "text_embed.weight" in copied and "frames.head.weight" in copied
    assert any(k.startswith("core.") for k in copied)
    assert "bos" not in copied and "mask_embed" not in copied  # one model's own
    for k, v in kalle.state_dict().items():
        if k in copied:
            assert torch.equal(v, saved[k].to(v.dtype)), k
        else:
            assert torch.equal(v, before[k]), k  # fresh, untouched
    # the run itself takes the flag, and trains from there
    run(
        load_config(
            None,
            common
            | {"stage": "kalle", "exp": str(tmp_path / "k"), "warm_start": str(par / "final")},
        )
    )
    assert len(losses(tmp_path / "k")) == 2
    other = dict(meta["symbols"], symbols=meta["symbols"]["symbols"][:-1])
    with pytest.raises(ValueError, match="another symbol table"):
        warm_start(kalle, str(par / "final"), other)
    with pytest.raises(ValueError, match="no tensor matches"):
        warm_start(torch.nn.Linear(3, 5), str(par / "final"), meta["symbols"])


def test_unknown_options_and_stages_are_errors():
    with pytest.raises(ValueError, match="unknown training options: bogus"):
        load_config(None, {"bogus": 1})
    with pytest.raises(ValueError, match="unknown stage"):
        load_config(None, {"stage": "vocoder"})
    assert load_config(None, {"lr": 0.5}).loop == LoopOptions(lr=0.5)


def test_trained_stages_export_to_a_model_the_synthesizer_speaks_with(prepared, tmp_path):
    from palette.recipes.libritts.export import export_bundle
    from palette.tts.synthesizer import SynthesisOptions, Synthesizer
    from palette.tts.voice import Voice

    out, codec_dir, parts = prepared
    common = tiny_options(prepared) | {"max_steps": 2}
    for stage in ("par", "nar"):
        run(load_config(None, common | {"stage": stage, "exp": str(tmp_path / stage)}))
    bundle = export_bundle(
        str(tmp_path / "model"),
        str(codec_dir),
        {s: str(tmp_path / s / "final") for s in ("par", "nar")},
        "par",
    )
    weights = load_file_sizes(bundle / "par" / "model.safetensors")
    assert weights == {torch.float16}  # stored in half precision
    synth = Synthesizer.from_pretrained(bundle)
    wav = sorted(tiny_wavs(prepared))[0]
    voice = synth.encode_voice(wav, wav.with_suffix(".normalized.txt").read_text())
    audio = synth.synthesize("Hello.", voice, options=SynthesisOptions(duration=0.4))
    assert len(audio.samples) == 20 * synth.codec.hop_length
    assert isinstance(voice, Voice) and voice.codes.shape[0] == synth.codec.num_codebooks


def load_file_sizes(path):
    from safetensors.torch import load_file

    return {t.dtype for t in load_file(str(path)).values() if t.is_floating_point()}


def tiny_wavs(prepared):
    from lhotse import CutSet

    cuts = CutSet.from_file(prepared[0] / "manifests" / "libritts_cuts_train-clean-100.jsonl.gz")
    return [Path(c.recording.sources[0].source) for c in cuts if c.duration > 1.5]


def test_aligner_durations_feed_an_aligned_latent_par_that_speaks(prepared, tmp_path):
    from palette.recipes.libritts import durations
    from palette.recipes.libritts.export import export_bundle
    from palette.recipes.libritts.lm_data import read_durations
    from palette.tts.synthesizer import SynthesisOptions, Synthesizer

    out, codec_dir, parts = prepared
    common = tiny_options(prepared) | {"max_steps": 2}
    par = common | {"stage": "par", "exp": str(tmp_path / "par"), "latents": True, "aligned": True}
    with pytest.raises(FileNotFoundError, match="no durations"):
        run(load_config(None, par))
    run(load_config(None, common | {"stage": "align", "exp": str(tmp_path / "align")}))
    durations.main(
        [
            "--manifests",
            str(out),
            "--codec",
            str(codec_dir),
            "--aligner",
            str(tmp_path / "align" / "final"),
            "--parts",
            ",".join(parts),
        ]
    )
    stored = read_durations(str(out), str(codec_dir))
    assert stored and all(sum(d) > 0 for d in stored.values())
    run(load_config(None, par | {"score_ratio": 0.0}))
    assert "dur" in open(tmp_path / "par" / "log.csv").readline()
    bundle = export_bundle(
        str(tmp_path / "model"), str(codec_dir), {"par": str(tmp_path / "par" / "final")}, "par"
    )
    synth = Synthesizer.from_pretrained(bundle)
    wav = sorted(tiny_wavs(prepared))[0]
    voice = synth.encode_voice(wav, wav.with_suffix(".normalized.txt").read_text())
    options = SynthesisOptions(duration=0.4, span=4)
    audio = synth.synthesize("Hello.", voice, options=options)
    assert len(audio.samples) == 20 * synth.codec.hop_length
    streamed = np.concatenate(list(synth.stream("Hello.", voice, options=options)))
    np.testing.assert_allclose(streamed, audio.samples, atol=1e-4)


class CountingEmbedder:
    """A stand-in speaker encoder: a 6-dim summary of the waveform; counts its calls."""

    name, sample_rate = "counting", 16000

    def __init__(self):
        self.calls = 0

    def embed(self, wav):
        self.calls += 1
        v = np.array([wav.mean(), wav.std(), abs(wav).max(), len(wav) / 1e5, 1.0, -1.0])
        return (v / np.linalg.norm(v)).astype(np.float32)


def test_speaker_table_modes_and_round_trip(tmp_path):
    from palette.recipes.libritts.speaker_features import SpeakerTable

    embeddings = torch.nn.functional.normalize(torch.randn(4, 3), dim=1)
    table = SpeakerTable(["a1", "a2", "b1", "b2"], ["a", "a", "b", "b"], embeddings, "x")
    g = torch.Generator().manual_seed(0)
    assert torch.equal(table.for_cut("a1"), embeddings[0])
    assert all(torch.equal(table.for_cut("a1", "other", g), embeddings[1]) for _ in range(5))
    assert table.batch(["b1", "a2"], "other", g).shape == (2, 3)
    table.save(tmp_path)
    loaded = SpeakerTable.load(tmp_path)
    assert loaded.ids == table.ids and loaded.name == "x"
    torch.testing.assert_close(loaded.embeddings.float(), embeddings, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="no speaker embedding"):
        table.for_cut("c1")
    with pytest.raises(ValueError, match="mode"):
        table.for_cut("a1", "nearest")
    with pytest.raises(FileNotFoundError, match="speaker_features"):
        SpeakerTable.load(tmp_path / "none")


def test_speaker_conditioned_stages_train_from_the_stored_table(prepared, tmp_path):
    from palette.models.config import load_checkpoint
    from palette.recipes.libritts.speaker_features import SpeakerFeatureOptions, build_table

    out, codec_dir, parts = prepared
    embedder = CountingEmbedder()
    options = SpeakerFeatureOptions(out=str(out), codec=str(codec_dir))
    table = build_table(options, embedder)
    assert embedder.calls == len(table.ids) > 0 and table.dim == 6
    build_table(options, embedder)  # a rerun embeds nothing new
    assert embedder.calls == len(table.ids)
    exp = tmp_path / "par"
    common = tiny_options(prepared) | {"max_steps": 2, "latents": True, "speaker": "other"}
    run(load_config(None, common | {"stage": "par", "exp": str(exp)}))
    saved, state = load_checkpoint(exp / "final")
    assert saved["model"]["speaker_dim"] == 6 and saved["model"]["speaker_dropout"] == 0.1
    assert state["speaker_proj.weight"].shape[1] == 6
    kalle = tmp_path / "kalle"  # the AR families take the same table, warm-started from PAR
    run(
        load_config(
            None, common | {"stage": "kalle", "exp": str(kalle), "warm_start": str(exp / "final")}
        )
    )
    saved, kalle_state = load_checkpoint(kalle / "final")
    assert saved["model"]["speaker_dim"] == 6
    # copied, then two steps of training (a fresh projection would be ~0.4 away)
    moved = (kalle_state["speaker_proj.weight"] - state["speaker_proj.weight"]).abs().max()
    assert 0 < moved < 0.01
    with pytest.raises(ValueError, match="par, refine, ar and kalle"):
        run(load_config(None, common | {"stage": "nar", "exp": str(tmp_path / "n")}))


def test_licence_shippable_keeps_only_voices_fit_for_shipped_weights(prepared, tmp_path):
    import json

    from palette.codec.files import UserError
    from palette.recipes.corpus.many_record import unshippable_speakers

    root = tmp_path / "many"
    (root / "train-clean-100" / "11").mkdir(parents=True)
    speakers = [
        {"speaker_id": 11, "shippable": True},
        {"speaker_id": 12, "shippable": False},  # e.g. an MBROLA voice (non-commercial)
        {"speaker_id": 13},  # no record of its licence: not shippable
    ]
    (root / "MANY_CORPUS.json").write_text(json.dumps({"speakers": speakers}))
    assert unshippable_speakers(root / "train-clean-100" / "11") == {"12", "13"}
    with pytest.raises(UserError, match="many-voice corpus"):
        unshippable_speakers(tmp_path / "elsewhere")
    # the tiny corpus is a mini corpus: no licence record, a clear error before training
    options = tiny_options(prepared) | {"max_steps": 1, "stage": "par", "licence": "shippable"}
    with pytest.raises(UserError, match="many-voice corpus"):
        run(load_config(None, options | {"exp": str(tmp_path / "par")}))
