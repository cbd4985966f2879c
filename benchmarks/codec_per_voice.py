"""WER per held-out voice of a codec report's resyntheses: which voices the round trip loses.

    python benchmarks/codec_per_voice.py data/many-codec/test-clean OUT/report-dir \\
        --systems "shipped=compare1_codec-shipped_latents,wide=compare2_codec-wide-codes_latents"

Reads the resynthesised wavs that ``palette.recipes.evaluation.codec_report`` leaves in its
``--out`` folder (one subfolder per system), transcribes them and the originals with the
evaluation's Whisper tiny.en, and prints a Markdown table of WER per base voice of one test
group (``--role``, default the held-out base voices), word errors summed over the voice's
utterances.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import soundfile as sf

from palette.recipes.corpus.many_record import many_speakers
from palette.recipes.evaluation.metrics.asr import WhisperTranscriber
from palette.recipes.evaluation.metrics.wer import word_errors
from palette.tts.audio import resample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("test", type=Path, help="test subset of a many-voice corpus")
    parser.add_argument("report", type=Path, help="codec_report's --out folder")
    parser.add_argument("--systems", required=True, help="NAME=SUBFOLDER,... of the report")
    parser.add_argument("--role", default="test-base", help="test group of MANY_CORPUS.json")
    args = parser.parse_args()
    speakers = many_speakers(args.test)
    if speakers is None:
        parser.error(f"{args.test} is not part of a many-voice corpus (no MANY_CORPUS.json)")
    base = {str(s["speaker_id"]): s["base"] for s in speakers if s["role"] == args.role}
    systems = dict(item.split("=", 1) for item in args.systems.split(","))
    first = args.report / next(iter(systems.values()))
    names = sorted(p.name for p in first.glob("*.wav") if p.name.split("_")[0] in base)
    asr = WhisperTranscriber()
    errors = collections.defaultdict(lambda: collections.Counter())  # voice -> system -> errors
    words = collections.Counter()  # voice -> reference words
    utterances = collections.Counter()  # voice -> utterances
    for name in names:
        speaker, chapter = name.split("_")[:2]
        original = args.test / speaker / chapter / name
        text = original.with_name(name[:-4] + ".normalized.txt").read_text()
        paths = {"original": original} | {k: args.report / v / name for k, v in systems.items()}
        voice = base[speaker]
        for system, path in paths.items():
            wav, sr = sf.read(path, dtype="float32")
            e = word_errors(text, asr.transcribe(resample(wav, sr, asr.sample_rate)))
            errors[voice][system] += e.substitutions + e.deletions + e.insertions
        words[voice] += e.words
        utterances[voice] += 1
    columns = ["original", *systems]
    print("| voice | utterances | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for voice in sorted(errors):
        cells = [f"{100 * errors[voice][c] / max(1, words[voice]):.1f} %" for c in columns]
        print(f"| {voice} | {utterances[voice]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
