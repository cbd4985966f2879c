"""Tiny random model directories for the ONNX tests: one like the default model (aligned PAR
over codec latents + refine stage) and one PAR over codes (+ NAR, which stays in PyTorch)."""

import pytest
import torch

from palette.codec.palette_codec import PaletteCodec, PaletteCodecConfig
from palette.models.config import LMConfig
from palette.models.loading import build_model
from palette.models.transformer import TransformerConfig
from palette.tts.bundle import ModelBundle
from palette.tts.symbols import SymbolTable


def tiny_bundle(root, latents: bool):
    """``latents``: par + refine, aligned, over 4-dim latents, the codec's codes a latent RVQ
    (as the shipped codec's); else par + nar over codes of the encoder's FSQ."""
    if latents:
        stages = {s: {"family": "par", "latent_dim": 4, "aligned": True} for s in ("par", "refine")}
        return tiny_model_dir(root, stages, "par", {"code_source": "latent", "codebook_size": 16})
    stages = {"par": {"family": "par"}, "nar": {"family": "nar"}}
    return tiny_model_dir(root, stages, "par")


def tiny_model_dir(root, stages: dict[str, dict], default_family: str, codec_fields=None):
    """A model directory with a tiny random codec (``codec_fields``: its config beyond the
    defaults here) and one tiny model per stage; ``stages``: stage -> ``LMConfig`` fields beyond
    the shared ones (codes unless ``latent_dim`` is set)."""
    torch.manual_seed(0)
    codec_cfg = PaletteCodecConfig(
        **{
            "dim": 32,
            "encoder_blocks": 1,
            "decoder_blocks": 1,
            "vocoder_blocks": 1,
            "num_codebooks": 2,
            "latent_dim": 4,
        }
        | (codec_fields or {})
    )
    codec_dir = root.parent / f"{root.name}-codec"
    codec = PaletteCodec(codec_cfg)
    if codec.rvq is not None:  # fitted codebooks are never all zero
        codec.rvq.codebooks.normal_()
    codec.save_pretrained(codec_dir)
    symbols = SymbolTable.default()
    core = TransformerConfig(dim=32, layers=2, heads=2)
    checkpoints = {}
    for stage, fields in stages.items():
        shared = {
            "num_symbols": len(symbols),
            "transformer": core,
            "cardinality": 0 if fields.get("latent_dim") else codec_cfg.cardinality,
            "num_codebooks": 2,
        }
        cfg = LMConfig(**(shared | fields))
        config = {
            "model": cfg.to_dict(),
            "symbols": symbols.to_dict(),
            "codec": "codec",
            "stage": stage,
        }
        checkpoints[stage] = (config, build_model(cfg).state_dict())
    return ModelBundle.write(root, str(codec_dir), checkpoints, default_family, half=False)


@pytest.fixture(scope="session")
def latent_bundle(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.mktemp("onnx") / "latent", latents=True)


@pytest.fixture(scope="session")
def code_bundle(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.mktemp("onnx") / "codes", latents=False)


@pytest.fixture(scope="session")
def latent_export(latent_bundle, tmp_path_factory):
    pytest.importorskip("onnxscript")
    from palette.streaming.onnx.export import ExportOptions, export_bundle

    out = tmp_path_factory.mktemp("onnx") / "latent-onnx"
    return export_bundle(latent_bundle, out, ExportOptions(measure=False))  # auto = onnx


@pytest.fixture(scope="session")
def code_export(code_bundle):
    """Graphs added in place by the command line, the codec left to PyTorch."""
    pytest.importorskip("onnxscript")
    from palette.tts.cli import main

    assert (
        main(
            [
                "export",
                str(code_bundle.directory),
                "--out",
                str(code_bundle.directory),
                "--no-codec",
                "--no-measure",  # runtime auto then takes onnxruntime
            ]
        )
        == 0
    )
    return ModelBundle.read(code_bundle.directory)
