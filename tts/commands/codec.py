"""``palette codec``: hear what a codec does to a recording, list the codecs."""

from __future__ import annotations

import argparse
import time

from palette.codec import DEFAULT_CODEC
from palette.codec.files import UserError
from palette.tts.commands.synthesis_args import add_download_argument

HELP = "codec tools: resynthesise a file through a codec, list codecs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("resynth", help="encode a file and decode it again (codec round trip)")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3)")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="audio file to write, format from the extension (wav, flac, ogg, mp3 where "
        "supported); - for wav on stdout",
    )
    p.add_argument(
        "--codec",
        default=DEFAULT_CODEC,
        help=f"registered name, checkpoint directory or Hugging Face id (default {DEFAULT_CODEC})",
    )
    p.add_argument("--bandwidth", type=float, default=None, help="EnCodec bandwidth in kbps")
    add_download_argument(p)
    p.add_argument(
        "--latents",
        action="store_true",
        help="round trip through the Gaussian latents (posterior mean) instead of codes",
    )
    sub.add_parser("list", help="list registered codecs")


def run(args: argparse.Namespace) -> int:
    from palette.codec import available_codecs, load_codec

    if args.action == "list":
        for name in available_codecs():
            print(name)
        return 0
    from palette.tts.commands.outputs import check_audio_output, quiet_on_broken_pipe

    check_audio_output(args.output)  # fail on a bad output or input before loading any weights
    return quiet_on_broken_pipe(lambda: _resynth(args, load_codec))


def _resynth(args: argparse.Namespace, load_codec) -> int:
    import sys

    import torch

    from palette.tts.audio import load_audio
    from palette.tts.audio_output import STDOUT, save_audio

    load_audio(args.input)
    kwargs = {"bandwidth": args.bandwidth} if args.bandwidth is not None else {}
    codec = load_codec(args.codec, allow_download=getattr(args, "allow_download", None), **kwargs)
    if args.latents and not codec.has_latents:
        raise UserError(f"--latents: codec {args.codec!r} has no Gaussian latents")
    wav, _ = load_audio(args.input, sample_rate=codec.sample_rate)
    x = torch.from_numpy(wav)[None, None]
    start = time.perf_counter()
    with torch.inference_mode():
        if args.latents:
            mean, _ = codec.encode_latents(x)
            y = codec.decode_latents(mean)
            what = f"{mean.shape[-1]} frames x {codec.latent_dim} latent dims"
        else:
            codes = codec.encode(x)
            y = codec.decode(codes)
            what = f"{codes.shape[-1]} frames x {codes.shape[1]} codebooks"
    elapsed = time.perf_counter() - start
    save_audio(args.output, y[0, 0].numpy(), codec.sample_rate)
    seconds = len(wav) / codec.sample_rate
    report = sys.stderr if args.output == STDOUT else sys.stdout  # keep stdout for the audio
    print(
        f"{args.input}: {seconds:.2f} s -> {what} at {codec.frame_rate:g} Hz -> {args.output} "
        f"(encode+decode {elapsed:.2f} s, RTF {elapsed / seconds:.3f})",
        file=report,
    )
    return 0
