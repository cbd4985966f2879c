"""ModelBundle owns the model-directory format: it validates bundle.json, stages and weights
with messages that name the file and the field, and writes directories atomically."""

import json
import shutil

import pytest

from palette.codec import UserError
from palette.tts.bundle import ModelBundle
from palette.tts.synthesizer import Synthesizer


@pytest.fixture
def copy(tiny_bundle, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(tiny_bundle, out)
    return out


def edit(directory, **changes):
    data = json.loads((directory / "bundle.json").read_text())
    data.update(changes)
    (directory / "bundle.json").write_text(json.dumps(data))


def test_reads_stages_and_families(tiny_bundle):
    bundle = ModelBundle.read(tiny_bundle)
    assert set(bundle.stages) == {"ar", "nar", "kalle", "par", "refine"}
    assert bundle.families == ["ar", "par", "kalle"] and bundle.default_family == "par"
    assert bundle.codec == "codec" and bundle.codec_ref == str(tiny_bundle / "codec")


@pytest.mark.parametrize(
    "content,message",
    [
        ("[1, 2]", "must hold a JSON object, not list"),
        ("{not json", "not valid JSON"),
        ('{"language": "en-us"}', "missing field 'codec'"),
        ('{"codec": 3}', "field 'codec' must be a non-empty str"),
        ('{"codec": "codec", "colour": "red"}', "unknown field"),
        ('{"codec": "codec", "default_family": "xyz"}', "default_family 'xyz' is not one of"),
        (
            '{"codec": "codec", "sampling": {"par": {"temperature": "hot"}}}',
            "sampling.par.temperature must be a finite float",
        ),
        ('{"codec": "codec", "sampling": {"par": {"colour": 1}}}', "unknown option 'colour'"),
        ('{"codec": "codec", "sampling": {"par": {"span": 2.5}}}', "span must be a finite int"),
    ],
)
def test_bad_bundle_json_names_file_and_field(copy, content, message):
    (copy / "bundle.json").write_text(content)
    with pytest.raises(UserError, match="bundle.json") as err:
        ModelBundle.read(copy)
    assert message in str(err.value)


def test_missing_weights_corrupt_weights_and_bad_config_are_user_errors(copy):
    (copy / "kalle" / "model.safetensors").unlink()
    with pytest.raises(UserError, match="stage 'kalle' has no model.safetensors"):
        ModelBundle.read(copy)
    shutil.rmtree(copy / "kalle")
    (copy / "ar" / "model.safetensors").write_bytes(b"\x00" * 50)
    with pytest.raises(UserError, match=r"ar/model.safetensors: not a readable safetensors"):
        Synthesizer.from_pretrained(copy)
    shutil.rmtree(copy / "ar")
    config = json.loads((copy / "par" / "config.json").read_text())
    config["model"]["colour"] = "red"
    (copy / "par" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"par/config.json: model: unknown field\(s\) colour"):
        Synthesizer.from_pretrained(copy)
    config["model"].pop("colour")
    config["model"]["transformer"]["dim"] = "wide"
    (copy / "par" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="transformer.dim: expected int"):
        Synthesizer.from_pretrained(copy)


def test_a_default_family_without_its_stage_is_refused(copy):
    shutil.rmtree(copy / "kalle")
    edit(copy, default_family="kalle")
    with pytest.raises(UserError, match="default_family 'kalle' needs stage"):
        ModelBundle.read(copy)


def test_write_round_trips_and_replaces_atomically(tiny_bundle, tmp_path):
    from palette.models.config import load_checkpoint

    src = ModelBundle.read(tiny_bundle)
    stages = {s: load_checkpoint(tiny_bundle / s) for s in ("par", "refine")}
    out = tmp_path / "exported"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    written = ModelBundle.write(out, src.codec_ref, stages, "par", sampling={"par": {"span": 4}})
    assert written.stages == ("par", "refine") and written.recommended("par") == {"span": 4}
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["exported"]  # no temporary left behind
    with pytest.raises(UserError, match="default family 'ar' is not among"):
        ModelBundle.write(out, src.codec_ref, stages, "ar")
    assert ModelBundle.read(out).stages == ("par", "refine")  # the failed write changed nothing
