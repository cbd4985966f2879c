"""``palette codec``: hear what a codec does to a recording, list the codecs."""

from __future__ import annotations

import argparse
import time

HELP = "codec tools: resynthesise a file through a codec, list codecs"
DEFAULT_CODEC = "palette-codec"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("resynth", help="encode a file and decode it again (codec round trip)")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("-o", "--output", required=True, help="wav file to write")
    p.add_argument("--codec", default=DEFAULT_CODEC,
                   help=f"registered name, checkpoint directory or Hugging Face id (default {DEFAULT_CODEC})")  # fmt: skip
    p.add_argument("--bandwidth", type=float, default=None, help="EnCodec bandwidth in kbps")
    p.add_argument("--latents", action="store_true",
                   help="round trip through the Gaussian latents (posterior mean) instead of codes")  # fmt: skip
    sub.add_parser("list", help="list registered codecs")


def run(args: argparse.Namespace) -> int:
    from palette.codec import available_codecs, load_codec

    if args.action == "list":
        for name in available_codecs():
            print(name)
        return 0
    import torch

    from palette.tts.audio import load_audio, save_wav

    load_audio(args.input)  # fail on a bad input file before loading any weights
    kwargs = {"bandwidth": args.bandwidth} if args.bandwidth is not None else {}
    codec = load_codec(args.codec, **kwargs)
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
    save_wav(args.output, y[0, 0].numpy(), codec.sample_rate)
    seconds = len(wav) / codec.sample_rate
    print(f"{args.input}: {seconds:.2f} s -> {what} at {codec.frame_rate:g} Hz -> {args.output} "
          f"(encode+decode {elapsed:.2f} s, RTF {elapsed / seconds:.3f})")  # fmt: skip
    return 0
