"""A tiny model bundle (random palette codec + one tiny model per stage) for facade tests."""

import numpy as np
import pytest
import soundfile as sf
import torch

from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.models.config import LMConfig
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.tts.bundle import ModelBundle
from palette.tts.symbols import SymbolTable

SR = 24000


def make_bundle(
    root, stages=("ar", "nar", "kalle", "par", "refine"), default="par", speculative=False
):
    """``speculative``: aligned ar and kalle models with their draft heads."""
    torch.manual_seed(0)
    codec_cfg = PaletteCodecConfig(
        dim=32, encoder_blocks=1, decoder_blocks=1, vocoder_blocks=1, num_codebooks=2, latent_dim=4
    )
    codec_dir = root.parent / f"{root.name}-codec"
    PaletteCodec(codec_cfg).save_pretrained(codec_dir)
    checkpoints = {}
    symbols = SymbolTable.default()
    core = TransformerConfig(dim=32, layers=1, heads=2)
    for stage in stages:
        family = {"refine": "par"}.get(stage, stage)
        cfg = LMConfig(
            family=family,
            num_symbols=len(symbols),
            transformer=core,
            cardinality=0 if family == "kalle" else codec_cfg.cardinality,
            num_codebooks=2,
            latent_dim=4 if family == "kalle" else 0,
            **(_speculative(family) if speculative else {}),
        )
        model = build_model(cfg)
        with torch.no_grad():  # random models: never end early, so lengths hit the text's cap
            if family == "ar":
                model.frames.head.bias[-1] = -20.0
            if family == "kalle":
                model.frames.stop.bias.fill_(-20.0)
        config = {
            "model": cfg.to_dict(),
            "symbols": symbols.to_dict(),
            "codec": "codec",
            "stage": stage,
        }
        checkpoints[stage] = (config, model.state_dict())
    ModelBundle.write(root, str(codec_dir), checkpoints, default, half=False)
    return root


def _speculative(family: str) -> dict:
    heads = {"ar": {"draft_upsample": 4}, "kalle": {"draft_ahead": 3}}
    return {"aligned": True, **heads[family]} if family in heads else {}


def speech_like(seconds=2.0, sr=SR, seed=0):
    """A voiced, syllable-rate-modulated tone: passes the prompt checks."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / sr) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.1 * voiced * envelope + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="session")
def synth(tiny_bundle):
    from palette.tts.synthesizer import Synthesizer

    return Synthesizer.from_pretrained(tiny_bundle)


@pytest.fixture(scope="session")
def voice(synth):
    return synth.encode_voice((speech_like(2.0), SR), "hello there")


# --- the CLI on bad input (test_bad_inputs, test_bad_voice_files) ----------------------------
def run_cli(capsys, *argv):
    """``palette ARGV`` in this process -> (exit code, stderr lines)."""
    from palette.tts.cli import main

    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_one_line_error(code, lines, *needles):
    assert code == 2, lines
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, lines
    assert not any("Traceback" in line for line in lines)
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a model gets loaded (the checks must come first)."""
    from palette.tts.synthesizer import Synthesizer

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(Synthesizer, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr("palette.codec.load_codec", refuse)


@pytest.fixture(scope="module")
def prompt(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompt") / "prompt.wav"
    sf.write(path, speech_like(2.0), SR)
    return path


def synth_args(tiny_bundle, prompt, out, *extra):
    return [
        "synthesize",
        "One two.",
        "--prompt",
        prompt,
        "--prompt-text",
        "hello there",
        "--model",
        tiny_bundle,
        "--duration",
        "0.4",
        "-o",
        out,
        *extra,
    ]
