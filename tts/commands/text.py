"""``palette text``: show what the front end makes of a text.

For each sentence: the text, its normalised form, the spans that were not kept as written with
the path that read each one (``rules`` = our rules, with the class they belong to; ``library`` =
the FST normaliser; ``fallback`` = our rules after the library failed on that piece), phonemes
and symbol ids. ``--document`` reads the input as a chapter or book (plain text or Markdown) and
shows the sentences that would be spoken, with the pause after each.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "normalise text and show its phonemes and symbol ids"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="text to analyse (default: read standard input)")
    parser.add_argument("--language", default="en-us", help="espeak-ng language (default en-us)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per sentence")
    parser.add_argument(
        "--rules-only",
        action="store_true",
        help="normalise with our rules alone, without the FST library",
    )
    parser.add_argument(
        "--document",
        action="store_true",
        help="read the input as a document (plain text or Markdown): show its "
        "sentences, the pause after each and their kind; no phonemes",
    )
    parser.add_argument(
        "--plain-text",
        action="store_true",
        help="with --document: the input is plain text, not Markdown",
    )


def _span_dicts(text: str, rules_only: bool) -> list[dict]:
    from palette.tts.text import PLAIN, NormalizeOptions, finished_spans

    spans = finished_spans(text, NormalizeOptions(library=not rules_only))
    return [
        {"written": s.written.strip(), "spoken": s.spoken, "path": s.path, "class": s.cls}
        for s in spans
        if s.path != PLAIN and s.written.strip()
    ]


def _show_spans(spans: list[dict]) -> str:
    if not spans:
        return "(nothing to rewrite)"
    return "; ".join(
        f"{s['written']} -> {s['spoken']} [{s['path']}{'/' + s['class'] if s['class'] else ''}]"
        for s in spans
    )


def _run_document(args: argparse.Namespace, text: str) -> int:
    from palette.tts.document import ReadingOptions, iter_segments

    options = ReadingOptions(markdown=not args.plain_text)
    for seg in iter_segments(text.splitlines(True), options):
        if args.json:
            print(
                json.dumps(
                    {"text": seg.text, "pause_after_s": seg.pause_after_s, "kind": seg.kind},
                    ensure_ascii=False,
                )
            )
        else:
            print(f"[{seg.kind:<9} pause {seg.pause_after_s:.2f} s] {seg.text}")
    return 0


def run(args: argparse.Namespace) -> int:
    from palette.tts.frontend import TextFrontend
    from palette.tts.text import NormalizeOptions, normalize

    text = args.text if args.text is not None else sys.stdin.read()
    if args.document:
        return _run_document(args, text)
    frontend = TextFrontend(args.language)
    english = args.language.startswith("en")
    if english and args.rules_only:  # the front end's own normalize, with our rules alone
        frontend.normalize = lambda t: normalize(t, NormalizeOptions(library=False))
    for out in frontend.sentences(text):
        spans = _span_dicts(out.text, args.rules_only) if english else []
        if args.json:
            print(
                json.dumps(
                    {
                        "text": out.text,
                        "normalized": out.normalized,
                        "spans": spans,
                        "phonemes": "".join(out.phonemes),
                        "ids": out.ids,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"text:       {out.text}")
            print(f"normalized: {out.normalized}")
            if english:
                print(f"read:       {_show_spans(spans)}")
            print(f"phonemes:   {''.join(out.phonemes)}")
            print(f"ids:        {' '.join(map(str, out.ids))}")
    return 0
