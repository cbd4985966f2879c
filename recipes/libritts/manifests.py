"""Where the LibriTTS recipe keeps its lhotse manifests, and how it writes them atomically.

Layout under the recipe's output directory ``OUT``::

    OUT/manifests/libritts_recordings_<part>.jsonl.gz      lhotse prepare_libritts
    OUT/manifests/libritts_supervisions_<part>.jsonl.gz    lhotse prepare_libritts
    OUT/manifests/libritts_cuts_<part>.jsonl.gz            stage 1: cuts
    OUT/manifests/libritts_cuts_<part>.phonemes.jsonl.gz   stage 2: + supervision.custom["phonemes"]
    OUT/manifests/phonemes.<language>.tsv                  stage 2: cache, "text<TAB>phonemes" lines
    OUT/features/<tag>/codec.json                          stage 3: the codec's sizes
    OUT/features/<tag>/<part>/shard-NNNNN.h5               stage 3: codes/latents (numpy_hdf5)
    OUT/features/<tag>/<part>/shard-NNNNN.jsonl.gz         stage 3: the shard's cuts
    OUT/features/<tag>/libritts_cuts_<part>.jsonl.gz       stage 3: all cuts with features

A file that exists is complete: each is written under a temporary name and renamed into place.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from palette.codec.files import UserFileNotFoundError, atomic_path

PREFIX = "libritts"


def manifest_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "manifests"


def cuts_path(out_dir: Path, part: str) -> Path:
    return manifest_dir(out_dir) / f"{PREFIX}_cuts_{part}.jsonl.gz"


def phoneme_cuts_path(out_dir: Path, part: str) -> Path:
    return manifest_dir(out_dir) / f"{PREFIX}_cuts_{part}.phonemes.jsonl.gz"


def phoneme_cache_path(out_dir: Path, language: str) -> Path:
    return manifest_dir(out_dir) / f"phonemes.{language}.tsv"


def feature_dir(out_dir: Path, tag: str) -> Path:
    return Path(out_dir) / "features" / tag


def feature_cuts_path(out_dir: Path, tag: str, part: str) -> Path:
    return feature_dir(out_dir, tag) / f"{PREFIX}_cuts_{part}.jsonl.gz"


def write_cuts_atomic(cuts: Iterable, path: Path) -> int:
    """Write cuts (lazily, one at a time) to ``path`` through a temporary file; returns the
    number written."""
    from lhotse import CutSet

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with atomic_path(path) as tmp, CutSet.open_writer(tmp, overwrite=True) as writer:
        for cut in cuts:
            writer.write(cut)
            count += 1
    return count


def load_cuts(path: Path):
    """A lazy ``CutSet`` over ``path`` (a clear error when a stage has not run yet)."""
    from lhotse import CutSet

    path = Path(path)
    if not path.is_file():
        raise UserFileNotFoundError(f"{path} does not exist: run the earlier stage first")
    return CutSet.from_jsonl_lazy(path)
