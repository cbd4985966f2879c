"""``palette text``: show what the front end makes of a text."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "normalise text and show its phonemes and symbol ids"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="text to analyse (default: read standard input)")
    parser.add_argument("--language", default="en-us", help="espeak-ng language (default en-us)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per sentence")


def run(args: argparse.Namespace) -> int:
    from palette.tts.frontend import TextFrontend

    text = args.text if args.text is not None else sys.stdin.read()
    frontend = TextFrontend(args.language)
    for out in frontend.sentences(text):
        if args.json:
            print(json.dumps({"text": out.text, "normalized": out.normalized,
                              "phonemes": "".join(out.phonemes), "ids": out.ids},
                             ensure_ascii=False))  # fmt: skip
        else:
            print(f"text:       {out.text}")
            print(f"normalized: {out.normalized}")
            print(f"phonemes:   {''.join(out.phonemes)}")
            print(f"ids:        {' '.join(map(str, out.ids))}")
    return 0
