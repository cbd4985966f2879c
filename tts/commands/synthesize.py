"""``palette synthesize``: speak a text in a prompt's voice into an audio file (or stdout)."""

from __future__ import annotations

import argparse
import logging
import time

from palette.tts.audio import output_formats
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
)

HELP = "speak a text in the voice of a prompt, into an audio file"
log = logging.getLogger("palette")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_synthesis_arguments(parser)
    parser.add_argument("-o", "--output", default="out.wav",
                        help=f"audio file to write, format from the extension ({', '.join(output_formats())}); "
                             "- for wav on stdout (default out.wav)")  # fmt: skip
    parser.add_argument("--save-voice", help="also save the encoded prompt to this .safetensors file")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    return quiet_on_broken_pipe(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from palette.tts.synthesizer import Synthesizer

    text = read_text(args)
    check_audio_output(args.output)  # every check on what the user gave before any model loads
    if args.save_voice:
        check_voice_output(args.save_voice)
    prompt = check_prompt(args)
    synth = Synthesizer.from_pretrained(args.model)
    voice = load_voice(synth, prompt, args)
    if args.save_voice:
        voice.save(args.save_voice)
    start = time.perf_counter()
    audio = synth.synthesize(text, voice, options=options_from_args(args))
    elapsed = time.perf_counter() - start
    audio.save(args.output)
    log.info("wrote %s: %.2f s of audio in %.2f s (RTF %.2f)", args.output, audio.duration,
             elapsed, elapsed / max(audio.duration, 1e-9))  # fmt: skip
    return 0
