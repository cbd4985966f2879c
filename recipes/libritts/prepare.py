"""Prepare LibriTTS (or the mini corpus, same layout) for training, in rerunnable stages.

    python -m palette.recipes.libritts.prepare manifests --corpus CORPUS --out OUT   # stage 1
    python -m palette.recipes.libritts.prepare phonemes --out OUT                    # stage 2
    python -m palette.recipes.libritts.prepare features --out OUT --codec NAME       # stage 3

Stage 1 runs lhotse's ``prepare_libritts`` and pairs recordings with supervisions into cuts.
Stage 2 adds each supervision's phonemes (``custom["phonemes"]``: espeak-ng IPA from
``tts.frontend``, one character per token, ``" "`` between words), cached by text.
Stage 3 (``recipes.libritts.features``) stores codec codes/latents. A stage whose output
exists is skipped; see ``recipes.libritts.manifests`` for the files.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from palette.codec.files import UserFileNotFoundError, run_reporting_user_errors
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts import manifests
from palette.recipes.libritts.features import FeatureOptions, extract_features

logger = logging.getLogger(__name__)


def available_parts(corpus_dir: Path) -> list[str]:
    """The LibriTTS subsets present in ``corpus_dir``, in lhotse's order."""
    from lhotse.recipes.libritts import LIBRITTS

    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise UserFileNotFoundError(f"no corpus directory {corpus_dir}")
    parts = [p for p in LIBRITTS if (corpus_dir / p).is_dir()]
    if not parts:
        raise UserFileNotFoundError(
            f"{corpus_dir} has none of the LibriTTS subsets {', '.join(LIBRITTS)}"
        )
    return parts


def prepared_parts(out_dir: Path) -> list[str]:
    """The subsets stage 1 has prepared in ``out_dir``."""
    from lhotse.recipes.libritts import LIBRITTS

    return [p for p in LIBRITTS if manifests.cuts_path(out_dir, p).is_file()]


def prepare_manifests(
    corpus_dir: Path, out_dir: Path, parts: list[str] | None = None, jobs: int = 1
) -> dict[str, Path]:
    """Stage 1: lhotse recordings + supervisions, then cuts; returns ``part -> cuts path``."""
    from lhotse import CutSet
    from lhotse.recipes import prepare_libritts

    parts = parts or available_parts(corpus_dir)
    todo = [p for p in parts if not manifests.cuts_path(out_dir, p).is_file()]
    for part in parts:
        if part not in todo:
            logger.info("stage 1: %s already prepared, skipped", part)
    if todo:
        prepared = prepare_libritts(
            corpus_dir,
            dataset_parts=todo,
            output_dir=manifests.manifest_dir(out_dir),
            num_jobs=jobs,
        )
        for part in todo:
            cuts = CutSet.from_manifests(
                recordings=prepared[part]["recordings"], supervisions=prepared[part]["supervisions"]
            )
            # one utterance per recording: name each cut after it ("84_121123_000008_000000")
            cuts = (
                c.with_id(c.supervisions[0].id) if len(c.supervisions) == 1 else c for c in cuts
            )
            count = manifests.write_cuts_atomic(cuts, manifests.cuts_path(out_dir, part))
            logger.info("stage 1: %s: %d cuts", part, count)
    return {p: manifests.cuts_path(out_dir, p) for p in parts}


class PhonemeCache:
    """``text -> phonemes`` memo backed by an append-only TSV (``text<TAB>phonemes`` lines;
    a torn last line from an interrupted run is ignored)."""

    def __init__(self, path: Path, language: str):
        from palette.tts.frontend import TextFrontend

        self.path = Path(path)
        self.frontend = TextFrontend(language)
        self.entries: dict[str, str] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                text, sep, phonemes = line.partition("\t")
                if sep and "\t" not in phonemes:
                    self.entries[text] = phonemes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self.misses = 0

    def __call__(self, text: str) -> str:
        key = " ".join(text.split())
        if key not in self.entries:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unknown symbols are counted by the caller
                self.entries[key] = "".join(self.frontend(key).phonemes)
            self._file.write(f"{key}\t{self.entries[key]}\n")
            self.misses += 1
        return self.entries[key]

    def close(self) -> None:
        self._file.close()


def _with_phonemes(cuts, cache: PhonemeCache, dropped: list[str]):
    """Yield the cuts with ``custom["phonemes"]`` on each supervision; cuts whose text has
    nothing to speak are left out and their ids appended to ``dropped``."""
    for cut in cuts:
        try:
            for sup in cut.supervisions:
                sup.custom = {**(sup.custom or {}), "phonemes": cache(sup.text)}
        except ValueError:
            dropped.append(cut.id)
            continue
        yield cut


def add_phonemes(
    out_dir: Path, parts: list[str] | None = None, language: str = "en-us"
) -> dict[str, Path]:
    """Stage 2: copy stage 1's cuts with ``supervision.custom["phonemes"]``; returns
    ``part -> cuts path``. Cuts whose text has nothing to speak are dropped (and counted)."""
    from tqdm import tqdm

    parts = parts or prepared_parts(out_dir)
    cache = PhonemeCache(manifests.phoneme_cache_path(out_dir, language), language)
    try:
        for part in parts:
            target = manifests.phoneme_cuts_path(out_dir, part)
            if target.is_file():
                logger.info("stage 2: %s already has phonemes, skipped", part)
                continue
            cuts = manifests.load_cuts(manifests.cuts_path(out_dir, part))
            dropped: list[str] = []
            progress = tqdm(cuts, desc=f"phonemes {part}", unit="cut")
            count = manifests.write_cuts_atomic(_with_phonemes(progress, cache, dropped), target)
            logger.info(
                "stage 2: %s: %d cuts, %d without speakable text dropped", part, count, len(dropped)
            )
    finally:
        cache.close()
    return {p: manifests.phoneme_cuts_path(out_dir, p) for p in parts}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.libritts.prepare",
        description="Prepare LibriTTS (or the mini corpus) in stages; finished stages are skipped.",
    )
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--out", type=Path, required=True, help="output directory (manifests/, features/)"
    )
    common.add_argument(
        "--parts",
        nargs="+",
        default=None,
        help="subsets, e.g. train-clean-100 dev-clean (default: all present)",
    )
    p = sub.add_parser("manifests", parents=[common], help="stage 1: lhotse manifests and cuts")
    p.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="LibriTTS root (holds train-clean-100/, SPEAKERS.txt)",
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel jobs for scanning audio")
    p = sub.add_parser("phonemes", parents=[common], help="stage 2: phonemes of every supervision")
    p.add_argument("--language", default="en-us", help="espeak-ng language (default %(default)s)")
    p = sub.add_parser("features", parents=[common], help="stage 3: codec codes / latents")
    add_flags(p, FeatureOptions)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def stage():
        if args.stage == "manifests":
            prepare_manifests(args.corpus, args.out, args.parts, args.jobs)
        elif args.stage == "phonemes":
            add_phonemes(args.out, args.parts, args.language)
        else:
            options = from_args(FeatureOptions, args, tag=args.tag)
            extract_features(args.out, args.parts or prepared_parts(args.out), options)

    return run_reporting_user_errors("prepare", stage)


if __name__ == "__main__":
    sys.exit(main())
