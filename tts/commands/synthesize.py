"""``palette synthesize``: speak a text in a prompt's voice into an audio file (or stdout)."""

from __future__ import annotations

import argparse
import logging
import stat
import time
from pathlib import Path

import numpy as np

from palette.codec.files import UserError
from palette.tts.audio_output import open_audio_output, output_formats, save_audio
from palette.tts.commands.outputs import (
    check_audio_output,
    check_voice_output,
    quiet_on_broken_pipe,
)
from palette.tts.commands.synthesis_args import (
    add_synthesis_arguments,
    check_prompt,
    load_voice,
    options_from_args,
    read_text,
    text_file_lines,
)
from palette.tts.document import count_segments

HELP = "speak a text in the voice of a prompt, into an audio file"
log = logging.getLogger("palette")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_synthesis_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        default="out.wav",
        help=f"audio file to write, format from the extension ({', '.join(output_formats())}); "
        "- for wav on stdout (default out.wav)",
    )
    parser.add_argument(
        "--save-voice", help="also save the encoded prompt to this .safetensors file"
    )


def run(args: argparse.Namespace) -> int:
    return quiet_on_broken_pipe(lambda: _run(args))


def _is_device(output: str) -> bool:
    path = Path(output)
    return output != "-" and path.exists() and not stat.S_ISREG(path.stat().st_mode)


def _run(args: argparse.Namespace) -> int:
    from palette.tts.synthesizer import Synthesizer

    total = None
    if args.text_file:  # a chapter or a book: checked (and counted) now, read lazily later
        total = count_segments(text_file_lines(args.text_file))
        if total == 0:
            raise UserError(f"nothing to read in {args.text_file}")
        text = None
    else:
        text = read_text(args)
    check_audio_output(args.output)  # every check on what the user gave before any model loads
    if args.save_voice:
        check_voice_output(args.save_voice)
    prompt = check_prompt(args)
    synth = Synthesizer.from_pretrained(
        args.model,
        allow_download=args.allow_download,
        runtime=args.runtime,
        precision=args.precision,
    )
    voice = load_voice(synth, prompt, args)
    if args.save_voice:
        voice.save(args.save_voice)
    start, samples = time.perf_counter(), 0
    options = options_from_args(args)
    if args.text_file:  # with the document's pauses (paragraphs, headings, list items)
        pieces = synth.read(text_file_lines(args.text_file), voice, options=options, total=total)
    else:
        pieces = synth.sentences(text, voice, options=options)
    if _is_device(args.output):  # /dev/null, a FIFO: written whole (libsndfile cannot seek it)
        audio = list(pieces)
        samples = sum(len(p) for p in audio)
        save_audio(
            args.output,
            np.concatenate(audio) if audio else np.zeros(0, np.float32),
            synth.sample_rate,
        )
    else:
        # sentence by sentence into the file: memory stays flat however long the text is, and
        # the file appears (renamed from a unique temporary name) only once it is complete
        with open_audio_output(args.output, synth.sample_rate) as write:
            for piece in pieces:
                write(piece)
                samples += len(piece)
    elapsed = time.perf_counter() - start
    seconds = samples / synth.sample_rate
    log.info(
        "wrote %s: %.2f s of audio in %.2f s (RTF %.2f)",
        args.output,
        seconds,
        elapsed,
        elapsed / max(seconds, 1e-9),
    )
    return 0
