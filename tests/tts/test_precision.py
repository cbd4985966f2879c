"""The PyTorch runtime's compute precision: fp32, bf16 autocast, and auto's choice."""

import numpy as np
import pytest
import torch

from palette.codec.files import UserError
from palette.models import precision
from palette.models.transformer import Transformer, TransformerConfig
from palette.tts.synthesizer import SynthesisOptions, Synthesizer
from tests.tts.conftest import SR, speech_like


def test_compute_dtype_names_and_auto(monkeypatch):
    assert precision.compute_dtype("fp32") is None
    assert precision.compute_dtype("bf16") is torch.bfloat16
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": True)
    assert precision.compute_dtype("auto") is torch.bfloat16
    monkeypatch.setattr(precision, "native_bf16", lambda device="cpu": False)
    assert precision.compute_dtype("auto") is None
    with pytest.raises(UserError, match="precision must be one of auto, fp32, bf16, not 'fp16'"):
        precision.compute_dtype("fp16")


def test_bf16_autocast_changes_the_products_not_the_interface():
    torch.manual_seed(0)
    core = Transformer(TransformerConfig(dim=64, layers=2, heads=4)).eval()
    x = torch.randn(2, 37, 64)
    positions = torch.arange(37).expand(2, 37)
    mask = torch.ones(2, 1, 37, 37, dtype=torch.bool)
    with torch.inference_mode():
        fp32 = core(x, positions, mask)
        precision.set_compute_dtype(core, torch.bfloat16)
        bf16 = core(x, positions, mask)
        precision.set_compute_dtype(core, None)
        again = core(x, positions, mask)
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape
    assert not torch.equal(bf16, fp32)  # the setting takes effect
    torch.testing.assert_close(bf16, fp32, atol=0.1, rtol=0.05)
    assert torch.equal(again, fp32)  # and is undone


def test_synthesizer_precision_reaches_every_stage(tiny_bundle):
    voice_audio = (speech_like(2.0), SR)
    outputs = {}
    for name in ("fp32", "bf16"):
        synth = Synthesizer.from_pretrained(tiny_bundle, runtime="torch", precision=name)
        expected = None if name == "fp32" else torch.bfloat16
        cores = [m for model in synth.models.values() for m in model.modules()]
        cores = [m for m in cores if isinstance(m, Transformer)]
        assert cores and all(m.compute_dtype is expected for m in cores)
        voice = synth.encode_voice(voice_audio, "hello there")
        kalle = SynthesisOptions(family="kalle")  # continuous frames: every difference shows
        outputs[name] = synth.synthesize("hello world", voice, options=kalle).samples
    assert outputs["fp32"].shape == outputs["bf16"].shape
    assert np.isfinite(outputs["bf16"]).all()
    assert not np.array_equal(outputs["fp32"], outputs["bf16"])


def test_cli_refuses_an_unknown_precision(tmp_path, capsys):
    from palette.tts.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["synthesize", "hello", "--precision", "fp8", "-o", str(tmp_path / "x.wav")])
    assert exit_info.value.code == 2
    assert "--precision" in capsys.readouterr().err
