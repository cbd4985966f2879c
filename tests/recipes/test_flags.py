"""Flags built from options dataclasses: repeatable flags, CSV tuples, booleans, defaults."""

import argparse
from dataclasses import dataclass

import pytest

from palette.recipes.flags import add_flags, from_args


@dataclass(frozen=True)
class Options:
    out: str  # where to write
    stage: tuple[str, ...] = ()  # NAME=DIR, repeat per stage
    parts: tuple[str, ...] = ("a",)  # comma-separated
    fast: bool = False  # go fast
    steps: int = 3  # how many
    rate: float = 0.1  # share of the steps, 10 % by default


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_flags(parser, Options, positional=("out",), repeat=("stage",))
    return from_args(Options, parser.parse_args(argv))


def test_repeated_flags_collect_strings_and_csv_flags_split():
    o = parse("dir", "--stage", "par=x", "--stage", "ar=y,z", "--parts", "b,c", "--fast")
    assert o == Options("dir", stage=("par=x", "ar=y,z"), parts=("b", "c"), fast=True)
    assert parse("dir") == Options("dir")


def test_a_bad_value_exits_with_a_usage_error():
    with pytest.raises(SystemExit):
        parse("dir", "--steps", "many")


def test_help_shows_comments_with_a_percent_sign(capsys):
    parser = argparse.ArgumentParser()
    add_flags(parser, Options, positional=("out",), repeat=("stage",))
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "share of the steps, 10 % by default (default 0.1)" in text


def test_export_takes_every_repeated_stage(tmp_path):
    from palette.codec.files import UserError
    from palette.recipes.libritts import export

    with pytest.raises(UserError, match="checkpoint .*b has no config.json"):
        export.export(
            export.ExportOptions(
                str(tmp_path / "m"), "palette-codec", "par", stage=("par=" + str(tmp_path / "b"),)
            )
        )
    code = export.main(
        [
            str(tmp_path / "m"),
            "--codec",
            "palette-codec",
            "--default-family",
            "par",
            "--stage",
            f"par={tmp_path / 'p'}",
            "--stage",
            f"refine={tmp_path / 'r'}",
        ]
    )
    assert code == 2  # the missing checkpoints, named: not a crash on the flag's type
