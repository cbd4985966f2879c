"""``palette stream``: speak as it is generated, raw 16-bit PCM on stdout.

palette stream "Hello there." --prompt demos/prompt.wav --output-raw | aplay -r 24000 -f S16_LE -t raw -

A reader that stops early (``| head -c 1000``) ends the stream quietly with status 0.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from palette.tts.commands.outputs import quiet_on_broken_pipe, refuse_terminal, stdout_binary
from palette.tts.commands.synthesis_args import (
    add_synthesis_arguments,
    check_prompt,
    load_voice,
    options_from_args,
    read_text,
)

HELP = "speak while generating: raw 16-bit PCM to stdout (pipe it to aplay)"
log = logging.getLogger("palette")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_synthesis_arguments(parser)
    parser.add_argument(
        "--output-raw",
        action="store_true",
        required=True,
        help="write raw signed 16-bit little-endian mono PCM to stdout",
    )
    parser.add_argument("--chunk-frames", type=int, default=10, help="codec frames per chunk")


def run(args: argparse.Namespace) -> int:
    return quiet_on_broken_pipe(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from palette.tts.synthesizer import Synthesizer

    text = read_text(args)
    refuse_terminal(
        "refusing to write raw audio to a terminal: pipe it, e.g. | aplay -r 24000 "
        "-f S16_LE -t raw -"
    )
    prompt = check_prompt(args)
    synth = Synthesizer.from_pretrained(
        args.model,
        allow_download=args.allow_download,
        runtime=args.runtime,
        precision=args.precision,
    )
    voice = load_voice(synth, prompt, args)
    out = stdout_binary()
    start, first, samples = time.perf_counter(), None, 0
    for chunk in synth.stream(text, voice, options=options_from_args(args)):
        first = first or time.perf_counter() - start
        out.write(pcm16(chunk))
        out.flush()
        samples += len(chunk)
    elapsed = time.perf_counter() - start
    seconds = samples / synth.sample_rate
    log.info(
        "streamed %.2f s at %d Hz; first chunk after %.0f ms, RTF %.2f",
        seconds,
        synth.sample_rate,
        1000 * (first or 0),
        elapsed / max(seconds, 1e-9),
    )
    return 0


def pcm16(chunk: np.ndarray) -> bytes:
    """float ``[s]`` in [-1, 1] -> signed 16-bit little-endian bytes."""
    return (np.clip(chunk, -1, 1) * 32767).astype("<i2").tobytes()
