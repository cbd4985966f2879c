"""The ar family with a depth head over a latent-RVQ codec, through the facade: a stage that
shares kalle's backbone is stored without the shared tensors and loads whole, the family speaks
every codebook without a NAR stage, in every speculative mode, and sharing is checked."""

import json
import shutil

import pytest
import torch

from palette.codec import UserError
from palette.codec.registry import load_codec
from palette.models.config import load_checkpoint
from palette.tts.bundle import ModelBundle
from palette.tts.options import SynthesisOptions

from ..streaming.conftest import tiny_model_dir
from .conftest import SR, speech_like

KALLE = {"family": "kalle", "latent_dim": 4, "aligned": True, "draft_ahead": 3}
DEPTH = {
    "family": "ar",
    "latent_dim": 4,
    "cardinality": 16,
    "aligned": True,
    "draft_ahead": 3,
    "depth": True,
}


@pytest.fixture(scope="module")
def depth_bundle(tmp_path_factory):
    """kalle + a depth-head ar stage whose backbone is kalle's, written with ar sharing kalle."""
    root = tmp_path_factory.mktemp("depth")
    fields = {"code_source": "latent", "codebook_size": 16}
    first = tiny_model_dir(root / "full", {"kalle": KALLE, "ar": DEPTH}, "kalle", fields)
    stages = {s: load_checkpoint(first.directory / s) for s in ("kalle", "ar")}
    kalle_state, ar_state = stages["kalle"][1], dict(stages["ar"][1])
    for name, tensor in kalle_state.items():  # the ar stage trained only its depth head
        if name in ar_state and ar_state[name].shape == tensor.shape:
            ar_state[name] = tensor.clone()
    with torch.no_grad():  # never stop early; the codec's vectors in the depth head
        kalle_state["frames.stop.bias"].fill_(-20.0)
        ar_state["frames.stop.bias"] = kalle_state["frames.stop.bias"].clone()
    rvq = load_codec(first.codec_ref).rvq
    ar_state["frames.rvq.codebooks"] = rvq.codebooks.clone()
    stages["ar"] = (stages["ar"][0], ar_state)
    written = ModelBundle.write(
        root / "shared", first.codec_ref, stages, "kalle", half=False, shares={"ar": "kalle"}
    )
    return written, ar_state


def test_a_sharing_stage_stores_only_its_own_tensors_and_loads_whole(depth_bundle):
    bundle, ar_state = depth_bundle
    config, stored = load_checkpoint(bundle.directory / "ar")
    assert config["shares"] == "kalle"
    own = {"frames.rvq.codebooks", "frames.spread", "frames.stage.weight"}
    own |= {f"frames.depth_{io}.{p}" for io in ("in", "out") for p in ("weight", "bias")}
    assert set(stored) == own
    model, _ = bundle.load_models(["ar"])["ar"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, ar_state[name].float()), name


@pytest.mark.parametrize("speculative", [None, "exact", "sampling", "relaxed"])
def test_the_depth_family_speaks_every_codebook_without_a_nar_stage(depth_bundle, speculative):
    from palette.tts.synthesizer import Synthesizer

    bundle, _ = depth_bundle
    synth = Synthesizer.from_pretrained(bundle.directory)
    assert "nar" not in bundle.stages and "ar" in bundle.families
    voice = synth.encode_voice((speech_like(2.0), SR), "hello there")
    options = SynthesisOptions(family="ar", temperature=0.7, speculative=speculative, seed=1)
    audio = synth.synthesize("one two three.", voice, options=options)
    assert audio.duration > 0.1 and torch.isfinite(torch.as_tensor(audio.samples)).all()


def test_sharing_is_checked(depth_bundle, tmp_path):
    bundle, _ = depth_bundle
    stages = {s: load_checkpoint(bundle.directory / s) for s in ("kalle", "ar")}
    with pytest.raises(UserError, match="cannot share"):
        ModelBundle.write(tmp_path / "x", bundle.codec_ref, stages, "kalle", shares={"ar": "par"})
    copy = tmp_path / "copy"
    shutil.copytree(bundle.directory, copy)
    config = json.loads((copy / "ar" / "config.json").read_text())
    (copy / "ar" / "config.json").write_text(json.dumps(config | {"shares": "nar"}))
    with pytest.raises(UserError, match="shares 'nar', which is not a stage"):
        ModelBundle.read(copy).load_models(["ar"])
