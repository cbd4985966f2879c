"""Evaluation manifests: the list of utterances to score, as JSON lines or TSV.

One item per utterance. Fields (only ``generated`` is needed to score; ``text`` enables WER,
``prompt`` and ``reference`` speaker similarity, ``speaker`` + references speaker ID,
``synthesis_seconds`` the real-time factor)::

    id                 unique name of the utterance (default: the generated file's stem)
    generated          wav/flac of the synthesised speech
    text               the text that was synthesised (the WER reference)
    reference          the real recording of that text by the target speaker (ground truth)
    prompt             the voice prompt given to the synthesiser
    prompt_text        transcript of the prompt (needed by models that continue the prompt)
    speaker            speaker id of the target voice
    synthesis_seconds  wall time the synthesiser took for this utterance

JSONL (``.jsonl``; a ``.json`` file may instead hold one array of such objects), one object
a line (wrapped here); other keys are kept and copied to the results::

    {"id": "1089_134686_000001_000001", "text": "He hoped there would be stew for dinner.",
     "generated": "gen/1089_134686_000001_000001.wav", "prompt": "test-clean/1089/...wav",
     "speaker": "1089", "synthesis_seconds": 1.9}

TSV (``.tsv``): a header line naming the columns (any subset of the fields above, any order),
then one tab-separated line per item; an empty cell means "not given"::

    id<TAB>generated<TAB>text<TAB>speaker
    utt1<TAB>gen/utt1.wav<TAB>He hoped there would be stew for dinner.<TAB>1089

Relative paths are relative to the manifest's folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from palette.codec.files import UserError, UserFileNotFoundError
from palette.codec.files import write_text_atomic as _write_text_atomic

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
PATH_FIELDS = ("generated", "reference", "prompt")
# LibriTTS "1089_134686_000001_000001", LibriSpeech "1089-134686-0000": the speaker comes first
_LIBRI_ID = re.compile(r"^(\d+)[_-]\d+[_-]\d+")


@dataclass(frozen=True)
class EvalItem:
    """One utterance to score (see the module doc for the meaning of each field)."""

    id: str
    generated: Path | None = None
    text: str | None = None
    reference: Path | None = None
    prompt: Path | None = None
    prompt_text: str | None = None
    speaker: str | None = None
    synthesis_seconds: float | None = None
    extra: dict = field(default_factory=dict, compare=False)  # unknown manifest keys

    def to_dict(self) -> dict:
        """JSON-ready dict without empty fields; ``extra`` keys are merged in."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out = {k: str(v) if isinstance(v, Path) else v for k, v in out.items() if v is not None}
        return {**out, **self.extra}


FIELDS = tuple(f.name for f in dataclasses.fields(EvalItem) if f.name != "extra")


def _item_from_record(record: dict, root: Path, where: str) -> EvalItem:
    record = {k: v for k, v in record.items() if v not in (None, "")}
    for key in PATH_FIELDS:
        if key in record:
            path = Path(os.path.expanduser(str(record[key])))
            record[key] = path if path.is_absolute() else root / path
    if "synthesis_seconds" in record:
        try:
            record["synthesis_seconds"] = float(record["synthesis_seconds"])
        except (TypeError, ValueError):
            raise UserError(f"{where}: synthesis_seconds is not a number") from None
    for key in ("id", "text", "prompt_text", "speaker"):
        if key in record:
            record[key] = str(record[key])
    if "id" not in record:
        if "generated" not in record:
            raise UserError(f"{where}: an item needs an 'id' or a 'generated' path")
        record["id"] = record["generated"].stem
    known = {k: v for k, v in record.items() if k in FIELDS}
    return EvalItem(**known, extra={k: v for k, v in record.items() if k not in FIELDS})


def read_manifest(path: str | os.PathLike) -> list[EvalItem]:
    """Read a ``.jsonl``/``.json`` or ``.tsv`` manifest (format in the module doc)."""
    path = Path(path)
    if not path.is_file():
        raise UserFileNotFoundError(f"manifest not found: {path}")
    root = path.parent
    lines = path.read_text(encoding="utf-8").splitlines()
    items = []
    if path.suffix.lower() == ".tsv":
        rows = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
        if not rows:
            raise UserError(f"{path}: empty manifest")
        header = rows[0][1].split("\t")
        unknown = [h for h in header if h not in FIELDS]
        if unknown:
            raise UserError(f"{path}: unknown TSV columns {unknown}; known: {list(FIELDS)}")
        for n, line in rows[1:]:
            cells = line.split("\t")
            if len(cells) != len(header):
                raise UserError(f"{path}:{n}: {len(cells)} cells, header has {len(header)}")
            items.append(
                _item_from_record(dict(zip(header, cells, strict=True)), root, f"{path}:{n}")
            )
    elif path.suffix.lower() == ".json" and "".join(lines).lstrip().startswith("["):
        records = json.loads("\n".join(lines))  # a JSON array of objects
        for n, record in enumerate(records, 1):
            if not isinstance(record, dict):
                raise UserError(f"{path}: entry {n} is not a JSON object")
            items.append(_item_from_record(record, root, f"{path}: entry {n}"))
    elif path.suffix.lower() in (".jsonl", ".json"):
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(f"{path}:{n}: not JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise UserError(f"{path}:{n}: expected a JSON object")
            items.append(_item_from_record(record, root, f"{path}:{n}"))
    else:
        raise UserError(f"{path}: manifest must end in .jsonl, .json or .tsv")
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise UserError(f"{path}: duplicate item ids {dup}")
    return items


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically, creating the folder (``palette.codec.files``)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return _write_text_atomic(path, text)


def write_manifest(path: str | os.PathLike, items: list[EvalItem]) -> Path:
    """Write items as ``.jsonl`` or ``.tsv`` (by suffix), atomically; paths as stored."""
    path = Path(path)
    records = [it.to_dict() for it in items]
    if path.suffix.lower() == ".tsv":
        columns = [f for f in FIELDS if any(f in r for r in records)]
        for r in records:
            bad = [k for k in columns if "\t" in str(r.get(k, "")) or "\n" in str(r.get(k, ""))]
            if bad:
                raise UserError(f"item {r['id']}: tab or newline in {bad}; use .jsonl")
        lines = ["\t".join(columns)]
        lines += ["\t".join(str(r.get(c, "")) for c in columns) for r in records]
    elif path.suffix.lower() in (".jsonl", ".json"):
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
    else:
        raise UserError(f"{path}: manifest must end in .jsonl, .json or .tsv")
    return write_text_atomic(path, "\n".join(lines) + "\n")


def speaker_from_id(utterance_id: str) -> str | None:
    """The speaker of a LibriTTS/LibriSpeech utterance id ("1089_134686_..." -> "1089")."""
    match = _LIBRI_ID.match(utterance_id)
    return match.group(1) if match else None


def _index(folder: Path | None, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """stem -> file, for files under ``folder`` (recursively) ending in one of ``suffixes``."""
    if folder is None:
        return {}
    if not folder.is_dir():
        raise UserFileNotFoundError(f"folder not found: {folder}")
    found = {}
    for p in sorted(folder.rglob("*")):
        name = p.name
        for suffix in suffixes:
            if name.endswith(suffix) and p.is_file():
                found.setdefault(name[: -len(suffix)], p)
    return found


def items_from_directories(
    generated: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    prompt: str | os.PathLike | None = None,
    text: str | os.PathLike | None = None,
) -> list[EvalItem]:
    """Build items by matching file stems: every audio file under ``generated`` is one item;
    the reference/prompt with the same stem (searched recursively) is paired with it; its text
    comes from ``<stem>.normalized.txt`` or ``<stem>.txt`` in the text, generated or reference
    folder (LibriTTS keeps them beside the wavs); the speaker from a Libri-style stem."""
    gen_dir = Path(generated)
    gens = _index(gen_dir, AUDIO_SUFFIXES)
    if not gens:
        raise UserError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {gen_dir}")
    refs = _index(Path(reference) if reference else None, AUDIO_SUFFIXES)
    prompts = _index(Path(prompt) if prompt else None, AUDIO_SUFFIXES)
    texts: dict[str, Path] = {}
    for folder in (reference, gen_dir, text):  # later folders win
        if folder is not None:
            texts |= _index(Path(folder), (".txt",))
            texts |= _index(Path(folder), (".normalized.txt",))
    items = []
    for stem, path in gens.items():
        txt = texts.get(stem)
        items.append(
            EvalItem(
                id=stem,
                generated=path,
                reference=refs.get(stem),
                prompt=prompts.get(stem),
                text=txt.read_text(encoding="utf-8").strip() if txt else None,
                speaker=speaker_from_id(stem),
            )
        )
    return items
