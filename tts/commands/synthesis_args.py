"""Arguments shared by ``palette synthesize`` and ``palette stream``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from palette.codec.files import UserError, UserFileNotFoundError
from palette.models.families import FAMILIES
from palette.tts.registry import DEFAULT_MODEL
from palette.tts.synthesizer import SynthesisOptions


def add_synthesis_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="text to speak (default: --text-file or stdin)")
    parser.add_argument("--text-file", help="read the text from this file")
    parser.add_argument("--prompt", required=True,
                        help="voice prompt: an audio file (1-20 s of speech) or a saved voice (.safetensors)")  # fmt: skip
    parser.add_argument("--prompt-text", help="what the prompt says (default: transcribe it; needs the eval extra)")  # fmt: skip
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name or directory (default {DEFAULT_MODEL})")  # fmt: skip
    defaults = SynthesisOptions()
    parser.add_argument("--family", choices=list(FAMILIES), help="model family (default: the model's)")  # fmt: skip
    parser.add_argument("--speed", type=float, default=defaults.speed, help="speaking rate (par)")
    parser.add_argument("--duration", type=float, help="seconds per sentence (par; overrides --speed)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument("--temperature", type=float, help="sampling temperature (default: the model's)")  # fmt: skip
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--top-p", type=float, default=defaults.top_p)
    parser.add_argument("--span", type=int, help="par: frames committed per step (default: the model's)")  # fmt: skip
    parser.add_argument("--refine-iterations", type=int, default=defaults.refine_iterations)


def read_text(args: argparse.Namespace) -> str:
    if args.text is not None:
        return args.text
    if args.text_file:
        path = Path(args.text_file)
        if not path.is_file():
            raise UserFileNotFoundError(f"text file not found: {path}")
        return path.read_text(encoding="utf-8")
    if sys.stdin.isatty():
        raise UserError("no text: give it as an argument, with --text-file, or on stdin")
    return sys.stdin.read()


def options_from_args(args: argparse.Namespace) -> SynthesisOptions:
    fields = {f.name for f in dataclasses.fields(SynthesisOptions)}
    return SynthesisOptions(
        **{k: v for k, v in vars(args).items() if k in fields and v is not None}
    )


def load_voice(synth, args: argparse.Namespace):
    """The prompt as a ``Voice``: a saved voice file, or an audio file encoded now."""
    from palette.tts.voice import Voice

    if str(args.prompt).endswith(".safetensors"):
        return Voice.load(args.prompt)
    return synth.encode_voice(args.prompt, args.prompt_text)
