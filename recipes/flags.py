"""Command-line flags from option dataclasses: every recipe entry point builds its flags this
way, so that each option has one name, one default and one help text (the comment beside the
field), and ``--config file.yaml`` takes the same keys.

    @dataclass(frozen=True)
    class ExportOptions:
        out: str  # model directory to write
        language: str = "en-us"  # espeak-ng language of the model

    parser = argparse.ArgumentParser()
    add_flags(parser, ExportOptions, positional=("out",))
    options = from_args(ExportOptions, parser.parse_args())
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import typing
from collections.abc import Iterable, Mapping


def field_comments(*classes) -> dict[str, str]:
    """``name: type = default  # comment`` lines of dataclasses -> {name: comment}."""
    out = {}
    for cls in classes:
        for line in inspect.getsource(cls).splitlines():
            m = re.match(r"\s+(\w+): [^#]+?#\s*(.+)$", line)
            if m:
                out[m[1]] = m[2]
    return out


def parse_bool(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")
    return text.lower() in ("true", "1", "yes")


def parse_csv(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _kind(cls, f: dataclasses.Field):
    hint = typing.get_type_hints(cls).get(f.name, str)
    if typing.get_origin(hint) is tuple:
        return parse_csv
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kind = args[0] if args else hint
    if typing.get_origin(kind) is tuple:
        return parse_csv
    if kind is bool:
        return parse_bool
    if kind in (int, float, str):
        return kind
    if f.default is not dataclasses.MISSING and f.default is not None:
        return type(f.default)
    return str


def add_flags(
    parser: argparse.ArgumentParser,
    cls,
    *,
    positional: Iterable[str] = (),
    choices: Mapping[str, Iterable[str]] | None = None,
    skip: Iterable[str] = (),
    repeat: Iterable[str] = (),
) -> None:
    """One flag per field of dataclass ``cls`` (``--name-with-dashes``), typed by the field, its
    comment as help; fields in ``positional`` become positional arguments, those in ``repeat``
    repeatable flags collected into a tuple. Flags default to ``None`` (= the field's default),
    so that a YAML config can fill what the command line leaves out."""
    comments, choices, skip = field_comments(cls), dict(choices or {}), set(skip)
    positional, repeat = tuple(positional), set(repeat)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        help_text = comments.get(f.name, "").replace("%", "%%")  # argparse formats help with %
        kwargs = {
            "type": _kind(cls, f),
            "help": help_text,
            "choices": list(choices[f.name]) if f.name in choices else None,
        }
        if f.name in positional:
            parser.add_argument(f.name, **kwargs)
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name in repeat:  # each use is one element (a tuple field's CSV type would nest)
            kwargs |= {"action": "append", "type": str}
        elif kwargs["type"] is parse_bool:  # --flag alone means true; --flag false also works
            kwargs |= {"nargs": "?", "const": True, "metavar": "BOOL"}
        elif not required:
            shown = repr(default).replace("%", "%%")
            kwargs["help"] = f"{help_text} (default {shown})" if help_text else f"default {shown}"
        parser.add_argument(
            "--" + f.name.replace("_", "-"), dest=f.name, default=None, required=required, **kwargs
        )


def from_args(cls, args: argparse.Namespace | Mapping, **extra):
    """The dataclass from parsed flags (``None`` = the field's default) and ``extra``."""
    values = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    names = {f.name for f in dataclasses.fields(cls)}
    kept = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in values.items()
        if k in names and v is not None
    }
    return cls(**(kept | extra))
