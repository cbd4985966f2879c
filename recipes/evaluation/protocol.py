"""The standard zero-shot TTS test protocol on LibriSpeech / LibriTTS test-clean.

Targets are the utterances of 4 to 10 seconds (VALL-E's LibriSpeech test-clean protocol); each
is paired with a cross-sentence prompt: a different utterance of the same speaker, drawn with a
seeded generator. The synthesiser speaks the target's text in the prompt's voice; the target's
own recording is the ground-truth reference (for SIM-to-reference, speaker-ID enrolment and the
topline obtained by scoring the references themselves).

Corpus layouts read (raw formats)::

    LibriTTS     <subset>/<spk>/<chapter>/<spk>_<chapter>_<para>_<sent>.wav
                 ... beside it <utt>.normalized.txt (one line: the normalised text), and
                 <spk>_<chapter>.trans.tsv: "<utt>\\t<original text>\\t<normalized text>"
    LibriSpeech  <subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac
                 <spk>-<chapter>.trans.txt: "<spk>-<chapter>-<utt> UPPER CASE TEXT"
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from palette.codec.files import UserError, UserFileNotFoundError
from palette.recipes.evaluation.manifest import AUDIO_SUFFIXES, EvalItem, speaker_from_id


@dataclass(frozen=True)
class ProtocolOptions:
    """How targets and prompts are chosen."""

    min_seconds: float = 4.0  # shortest target utterance
    max_seconds: float = 10.0  # longest target utterance
    prompt_min_seconds: float = 3.0  # shortest prompt utterance (models cut prompts to ~3 s)
    prompt_max_seconds: float = 20.0  # longest prompt utterance
    per_speaker: int | None = None  # at most this many targets per speaker (None: all)
    limit: int | None = None  # at most this many pairs, taken round-robin over speakers
    seed: int = 0  # seeds the target and prompt draws


@dataclass(frozen=True)
class Utterance:
    """One recording of the corpus."""

    id: str
    speaker: str
    path: Path
    text: str
    seconds: float


def _transcripts(chapter: Path) -> dict[str, str]:
    """utterance id -> text from the chapter's LibriTTS .trans.tsv / LibriSpeech .trans.txt."""
    texts = {}
    for tsv in chapter.glob("*.trans.tsv"):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            if len(cells) >= 3:
                texts[cells[0]] = cells[2]
    for txt in chapter.glob("*.trans.txt"):
        for line in txt.read_text(encoding="utf-8").splitlines():
            utt, _, text = line.partition(" ")
            if text:
                texts[utt] = text
    return texts


def scan_corpus(root: str | os.PathLike) -> list[Utterance]:
    """Every transcribed utterance under ``root`` (a subset folder such as ``test-clean``, or
    any folder above the ``<spk>/<chapter>/`` level), sorted by id."""
    root = Path(root)
    if not root.is_dir():
        raise UserFileNotFoundError(f"corpus folder not found: {root}")
    chapters: dict[Path, dict[str, str]] = {}
    utterances = []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        utt = path.stem
        speaker = speaker_from_id(utt)
        if speaker is None:
            continue
        normalized = path.with_name(f"{utt}.normalized.txt")
        if normalized.is_file():
            text = normalized.read_text(encoding="utf-8").strip()
        else:
            if path.parent not in chapters:
                chapters[path.parent] = _transcripts(path.parent)
            text = chapters[path.parent].get(utt, "").strip()
        if not text:
            continue
        utterances.append(
            Utterance(utt, speaker, path.resolve(), text, sf.info(str(path)).duration)
        )
    if not utterances:
        raise UserError(
            f"no transcribed LibriTTS/LibriSpeech utterances under {root} "
            "(expected <spk>/<chapter>/<spk>_<chapter>_..._....wav with .normalized.txt)"
        )
    return sorted(utterances, key=lambda u: u.id)


def select_zero_shot_pairs(
    utterances: list[Utterance],
    options: ProtocolOptions = ProtocolOptions(),
    generated_dir: str | os.PathLike | None = None,
) -> list[EvalItem]:
    """Targets of ``min_seconds``..``max_seconds`` paired with another utterance of the same
    speaker as prompt -> manifest items (``generated`` set to ``<generated_dir>/<id>.wav``
    when a folder is given). The same inputs and seed give the same pairs."""
    rng = random.Random(options.seed)
    by_speaker: dict[str, list[Utterance]] = defaultdict(list)
    for u in sorted(utterances, key=lambda u: u.id):
        by_speaker[u.speaker].append(u)
    queues = []
    for speaker in sorted(by_speaker):
        utts = by_speaker[speaker]
        targets = [u for u in utts if options.min_seconds <= u.seconds <= options.max_seconds]
        prompts = [
            u for u in utts if options.prompt_min_seconds <= u.seconds <= options.prompt_max_seconds
        ]
        rng.shuffle(targets)
        pairs = []
        for target in targets:
            candidates = [p for p in prompts if p.id != target.id and p.text != target.text]
            if candidates:
                pairs.append((target, rng.choice(candidates)))
            if options.per_speaker is not None and len(pairs) >= options.per_speaker:
                break
        queues.append(pairs)
    chosen = []
    for rank in range(max((len(q) for q in queues), default=0)):  # round-robin over speakers
        chosen += [q[rank] for q in queues if rank < len(q)]
    if options.limit is not None:
        chosen = chosen[: options.limit]
    if not chosen:
        raise UserError(
            f"no target of {options.min_seconds:g}-{options.max_seconds:g} s has a prompt of "
            f"{options.prompt_min_seconds:g}-{options.prompt_max_seconds:g} s by the same speaker"
        )
    gen = Path(generated_dir).resolve() if generated_dir is not None else None
    return [
        EvalItem(
            id=t.id,
            text=t.text,
            reference=t.path,
            prompt=p.path,
            prompt_text=p.text,
            speaker=t.speaker,
            generated=gen / f"{t.id}.wav" if gen is not None else None,
            extra={"target_seconds": round(t.seconds, 3), "prompt_seconds": round(p.seconds, 3)},
        )
        for t, p in sorted(chosen, key=lambda pair: pair[0].id)
    ]
