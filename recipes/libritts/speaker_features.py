"""Speaker embeddings of the prepared cuts, for PAR stages with a global speaker input.

    python -m palette.recipes.libritts.speaker_features --out data/libritts-prep --codec palette-codec

Every cut of ``--parts`` (default: every part with codec features) is embedded with a
pretrained speaker encoder (default resemblyzer's GE2E d-vector, 256 dims, trained on thousands
of real speakers; its weights ship in the package) and the table is written beside the codec
features: ``OUT/features/<tag>/speakers.safetensors`` (``embeddings [N, E]`` float16,
unit length) and ``speakers.json`` (cut ids, their speakers, the encoder's name). Rerunning
embeds only the cuts the table lacks. Training reads it through :class:`SpeakerTable`.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from palette.codec.files import (
    UserError,
    UserFileNotFoundError,
    atomic_write,
    run_reporting_user_errors,
    write_text_atomic,
)
from palette.recipes.flags import add_flags, from_args
from palette.recipes.libritts import manifests

logger = logging.getLogger(__name__)
TABLE, INDEX = "speakers.safetensors", "speakers.json"
MODES = ("utterance", "other")  # the cut's own embedding, or another cut's of its speaker


class SpeakerTable:
    """Cut id -> unit speaker embedding ``[E]``; ``for_cut`` picks the conditioning of a
    training cut: its own embedding (``utterance``) or a random other cut of the same speaker
    (``other``: prompt and target differ at inference, so the embedding must carry the voice,
    not the utterance)."""

    def __init__(self, ids: list[str], speakers: list[str], embeddings: torch.Tensor, name: str):
        if embeddings.shape[0] != len(ids) or len(ids) != len(speakers):
            raise ValueError("speaker table: ids, speakers and embeddings differ in length")
        self.ids, self.speakers, self.embeddings, self.name = ids, speakers, embeddings, name
        self.row = {cut_id: i for i, cut_id in enumerate(ids)}
        self.rows_of: dict[str, list[int]] = {}
        for i, speaker in enumerate(speakers):
            self.rows_of.setdefault(speaker, []).append(i)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def for_cut(self, cut_id: str, mode: str = "utterance", generator=None) -> torch.Tensor:
        if cut_id not in self.row:
            raise UserError(
                f"cut {cut_id} has no speaker embedding: rerun recipes.libritts.speaker_features"
            )
        row = self.row[cut_id]
        if mode == "other":
            rows = [r for r in self.rows_of[self.speakers[row]] if r != row] or [row]
            row = rows[int(torch.randint(len(rows), (1,), generator=generator))]
        elif mode != "utterance":
            raise UserError(f"speaker embedding mode {mode!r}; one of {', '.join(MODES)}")
        return self.embeddings[row].float()

    def batch(self, cut_ids: list[str], mode: str = "utterance", generator=None) -> torch.Tensor:
        """``[B, E]`` for the cuts of a batch."""
        return torch.stack([self.for_cut(c, mode, generator) for c in cut_ids])

    def save(self, directory: Path) -> None:
        tensors = {"embeddings": self.embeddings.to(torch.float16).contiguous()}
        atomic_write(directory / TABLE, lambda p: save_file(tensors, str(p)))
        index = {"encoder": self.name, "ids": self.ids, "speakers": self.speakers}
        write_text_atomic(directory / INDEX, json.dumps(index) + "\n")

    @classmethod
    def load(cls, directory: Path) -> SpeakerTable:
        if not (directory / TABLE).is_file() or not (directory / INDEX).is_file():
            raise UserFileNotFoundError(
                f"no speaker embeddings in {directory}: run "
                "python -m palette.recipes.libritts.speaker_features first"
            )
        index = json.loads((directory / INDEX).read_text())
        embeddings = load_file(str(directory / TABLE))["embeddings"]
        return cls(index["ids"], index["speakers"], embeddings, index["encoder"])


def table_dir(out_dir: str | Path, codec: str) -> Path:
    from palette.recipes.libritts.lm_data import feature_tag

    return manifests.feature_dir(Path(out_dir), feature_tag(codec))


def load_table(out_dir: str | Path, codec: str) -> SpeakerTable:
    return SpeakerTable.load(table_dir(out_dir, codec))


def embed_cuts(cuts, embedder, old: SpeakerTable | None = None, progress=True) -> SpeakerTable:
    """A table of every cut (``[S]`` audio at the embedder's rate); rows of ``old`` are kept."""
    if old is not None and old.name != embedder.name:
        raise UserError(f"the stored table was made by {old.name}, not {embedder.name}")
    ids, speakers, rows = [], [], []
    for cut in tqdm(list(cuts), desc="speaker embeddings", unit="cut", disable=not progress):
        ids.append(cut.id)
        speakers.append(str(cut.supervisions[0].speaker))
        if old is not None and cut.id in old.row:
            rows.append(old.embeddings[old.row[cut.id]].float())
            continue
        wav = cut.resample(embedder.sample_rate).load_audio()  # [channels, S]
        rows.append(torch.from_numpy(np.asarray(embedder.embed(wav.mean(axis=0)))).float())
    if not rows:
        raise UserError("no cuts to embed")
    return SpeakerTable(ids, speakers, torch.stack(rows), embedder.name)


@dataclass(frozen=True)
class SpeakerFeatureOptions:
    out: str = "data/libritts-prep"  # prepared corpus (prepare.py's --out)
    codec: str = "palette-codec"  # the codec whose features the table sits beside
    parts: tuple[str, ...] = ()  # parts to embed (default: every part with features)


def build_table(o: SpeakerFeatureOptions, embedder=None) -> SpeakerTable:
    from palette.recipes.libritts.lm_data import feature_tag, load_cuts

    directory = table_dir(o.out, o.codec)
    parts = list(o.parts) or [
        p.name.removeprefix("libritts_cuts_").removesuffix(".jsonl.gz")
        for p in sorted(directory.glob("libritts_cuts_*.jsonl.gz"))
    ]
    if not parts:
        raise UserFileNotFoundError(f"no codec features in {directory} ({feature_tag(o.codec)})")
    if embedder is None:  # the encoder synthesis embeds prompts with
        from palette.tts.speaker_encoder import speaker_encoder

        embedder = speaker_encoder()
    old = SpeakerTable.load(directory) if (directory / TABLE).is_file() else None
    table = embed_cuts(load_cuts(o.out, o.codec, parts), embedder, old)
    table.save(directory)
    logger.info("%d cuts of %d speakers in %s", len(table.ids), len(table.rows_of), directory)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.libritts.speaker_features",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_flags(parser, SpeakerFeatureOptions)
    options = from_args(SpeakerFeatureOptions, parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run_reporting_user_errors("speaker_features", lambda: build_table(options))


if __name__ == "__main__":
    raise SystemExit(main())
