"""Batches for the language-model stages, read from the cuts that ``prepare.py`` writes:
phonemes in ``supervision.custom["phonemes"]`` (an IPA string, one token per character) and
codec frames stored per cut (``cut.load_codes() -> [T, Q]``, ``cut.load_latent_mean() ->
[T, D]``; see ``recipes.libritts.features``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from palette.codec.files import UserError, UserFileNotFoundError
from palette.models.codec_lm import LMBatch
from palette.recipes.libritts import manifests
from palette.recipes.libritts.features import FeatureOptions
from palette.tts.symbols import SymbolTable


def feature_tag(codec: str) -> str:
    return FeatureOptions(codec=codec).resolved_tag()


def read_meta(out_dir: str, codec: str) -> dict:
    """The stored codec's sizes (``codec.json``) plus the symbol table phonemes map through."""
    path = manifests.feature_dir(Path(out_dir), feature_tag(codec)) / "palette.codec.json"
    if not path.is_file():
        raise UserFileNotFoundError(
            f"no codec features at {path.parent}: run prepare.py's stage 3 "
            f"with --codec {codec} first"
        )
    return json.loads(path.read_text()) | {"symbols": SymbolTable.default().to_dict()}


def durations_path(out_dir: str, codec: str) -> Path:
    return manifests.feature_dir(Path(out_dir), feature_tag(codec)) / "durations.json"


def read_durations(out_dir: str, codec: str) -> dict[str, list[int]]:
    """Frames per phoneme of every aligned cut, as ``recipes.libritts.durations`` stored them."""
    path = durations_path(out_dir, codec)
    if not path.is_file():
        raise UserFileNotFoundError(
            f"no durations at {path}: train the align stage and run "
            "python -m palette.recipes.libritts.durations first"
        )
    return json.loads(path.read_text())


def load_cuts(out_dir: str, codec: str, parts: list[str]):
    """Lazy cuts with features of the given parts, concatenated."""
    from lhotse import CutSet, combine

    tag = feature_tag(codec)
    paths = [manifests.feature_cuts_path(Path(out_dir), tag, part) for part in parts]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UserFileNotFoundError(f"missing cut manifests: {', '.join(missing)}")
    sets = [CutSet.from_jsonl_lazy(p) for p in paths]
    return sets[0] if len(sets) == 1 else combine(*sets)


def phoneme_ids(cut, symbols: SymbolTable) -> list[int]:
    text = "".join(s.custom["phonemes"] for s in cut.supervisions)
    return symbols.encode(list(text))


def collate(
    cuts,
    latents: bool = False,
    symbols: SymbolTable | None = None,
    durations: dict[str, list[int]] | None = None,
) -> LMBatch:
    """Cuts -> padded ``LMBatch`` (text ``[B, Lt]``, codes ``[B, Q, T]``, latents ``[B, D, T]``,
    and with a ``durations`` map, frames per phoneme ``[B, Lt]``)."""
    symbols = symbols or SymbolTable.default()
    texts = [torch.tensor(phoneme_ids(c, symbols)) for c in cuts]
    codes = [torch.from_numpy(c.load_codes().astype("int64")).T for c in cuts]
    text_lens = torch.tensor([len(t) for t in texts])
    audio_lens = torch.tensor([c.shape[-1] for c in codes])
    B, Lt, T = len(texts), int(text_lens.max()), int(audio_lens.max())
    text = torch.zeros(B, Lt, dtype=torch.long)
    code_batch = torch.zeros(B, codes[0].shape[0], T, dtype=torch.long)
    for i, (t, c) in enumerate(zip(texts, codes, strict=True)):
        text[i, : len(t)] = t
        code_batch[i, :, : c.shape[-1]] = c
    batch = LMBatch(text=text, text_lens=text_lens, audio_lens=audio_lens, codes=code_batch)
    if durations is not None:
        batch.durations = torch.zeros(B, Lt, dtype=torch.long)
        for i, c in enumerate(cuts):
            if c.id not in durations:
                raise UserError(
                    f"cut {c.id} has no stored durations: rerun recipes.libritts.durations"
                )
            d = torch.tensor(durations[c.id])
            if len(d) != text_lens[i] or d.sum() != audio_lens[i]:
                raise UserError(f"stored durations of {c.id} do not fit its phonemes and frames")
            batch.durations[i, : len(d)] = d
    if latents:
        D = cuts[0].load_latent_mean().shape[1]
        batch.latent_mean = torch.zeros(B, D, T)
        batch.latent_logstd = torch.zeros(B, D, T)
        for i, c in enumerate(cuts):
            n = int(audio_lens[i])
            batch.latent_mean[i, :, :n] = torch.from_numpy(c.load_latent_mean()).T[:, :n]
            batch.latent_logstd[i, :, :n] = torch.from_numpy(c.load_latent_logstd()).T[:, :n]
    return batch
