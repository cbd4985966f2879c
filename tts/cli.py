"""The ``palette`` command line: one subcommand per module, imported only when used.

Each subcommand module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). Errors that name a user's mistake are ``UserError``s: they
end the program with exit code 2 and a one-line message (and their traceback too with ``-v``).
Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from palette.codec.files import run_reporting_user_errors

# name -> module that implements it (lazy, so `palette --help` stays fast)
COMMANDS: dict[str, str] = {
    "synthesize": "palette.tts.commands.synthesize",
    "stream": "palette.tts.commands.stream",
    "models": "palette.tts.commands.models",
    "text": "palette.tts.commands.text",
    "codec": "palette.tts.commands.codec",
    "eval": "palette.tts.commands.eval",
    "serve": "palette.tts.commands.serve",
    "export": "palette.tts.commands.export",
}

# one-line summaries shown by `palette --help` without importing the modules
SUMMARIES: dict[str, str] = {
    "synthesize": "speak a text (or a chapter, --text-file) in the voice of a prompt, into an audio file",
    "stream": "speak while generating: raw 16-bit PCM to stdout (pipe it to aplay)",
    "models": "list installed models and codecs",
    "text": "normalise text and show its phonemes and symbol ids",
    "codec": "codec tools: round trip (resynthesise) a file through a codec, list codecs",
    "eval": "score generated audio: WER, speaker similarity, speaker ID, DNSMOS, RTF",
    "serve": "serve OpenAI-compatible speech (POST /v1/audio/speech), a voice library and a web demo",
    "export": "export a model's stages and codec to ONNX graphs (for --runtime onnx)",
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palette",
        description="palette-tts: zero-shot text-to-speech with codec language models.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=SUMMARIES[name], description=SUMMARIES[name])
        if name == wanted:  # import only the module that will run
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return run_reporting_user_errors(
            f"palette {args.command}", lambda: args._run(args), args.verbose
        )
    except BrokenPipeError:  # `palette text ... | head`: the reader left; end quietly
        from palette.tts.commands.outputs import _silence_stdout

        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
