"""Where does palette-codec's code round trip lose the words: in the rounding of its residual FSQ,
or in the few dimensions FSQ quantises? Decodes every reference of a pair list five ways and
scores each with Whisper tiny.en against the text (jiwer WER, lower-cased, punctuation dropped):

- ``original``: the recording itself;
- ``latents``: the Gaussian posterior mean through the decoder (the latent round trip);
- ``codes``: every codebook; ``codes, first only``: codebook 1 alone;
- ``unrounded``: the FSQ's input projection, tanh, and its output projection with no rounding
  at all (the code path's ceiling at its width, ``len(fsq_levels)`` dimensions).

A codec whose codes are the latent RVQ (``code_source`` ``"latent"``) gets ``codes, first q``
rows instead of the last two (q = 1, 2, 4, 6 of its codebooks).

    python benchmarks/codec_bottleneck_probe.py --pairs exp/report/unseen.jsonl \\
        --out benchmarks/results/codec/bottleneck_probe.md
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import torch

from palette.codec.files import UserError, write_text_atomic
from palette.codec.palette_codec import PaletteCodec
from palette.codec.registry import load_codec
from palette.tts.audio import load_audio


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


@torch.inference_mode()
def round_trips(codec: PaletteCodec, wav: torch.Tensor) -> dict[str, torch.Tensor]:
    """``wav [S]`` -> the decodings ``[S']`` named as in the module docstring."""
    x = wav[None, None]
    h = codec.encoder(x)
    mean, _ = codec.gaussian.posterior(h)
    codes = codec.codes_of(h)
    out = {
        "original": wav,
        "latents": codec.decode_latents(mean).reshape(-1),
        "codes": codec.decode(codes).reshape(-1),
    }
    if codec.fsq is not None:
        out["codes, first only"] = codec.decode(codes[:, :1]).reshape(-1)
        unrounded = codec.fsq.proj_out(torch.tanh(codec.fsq.proj_in(h)))
        out["unrounded"] = codec.decoder(unrounded).reshape(-1)
    else:  # latent RVQ: the first q codebooks
        for q in (1, 2, 4, 6):
            if q < codec.num_codebooks:
                out[f"codes, first {q}"] = codec.decode(codes[:, :q]).reshape(-1)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", required=True, help="pair list (its references are decoded)")
    parser.add_argument("--codec", default="palette-codec", help="a palette codec name or dir")
    parser.add_argument("--out", required=True, help="markdown report to write")
    args = parser.parse_args(argv)
    import jiwer

    from palette.tts.transcribe import transcribe

    codec = load_codec(args.codec)
    if not isinstance(codec, PaletteCodec) or not codec.has_codes or codec.gaussian is None:
        raise SystemExit(f"{args.codec}: needs a palette codec with both codes and latents")
    rows = [json.loads(line) for line in Path(args.pairs).read_text().splitlines() if line]
    refs, heard = [], {}
    for row in rows:
        wav, _ = load_audio(row["reference"], codec.config.sample_rate)
        refs.append(words(row["text"]))
        for name, audio in round_trips(codec.eval(), torch.as_tensor(wav)).items():
            try:
                text = transcribe(audio.numpy(), codec.config.sample_rate)
            except UserError:  # Whisper heard no speech at all
                text = ""
            heard.setdefault(name, []).append(words(text))
    shown = argv if argv is not None else sys.argv[1:]
    command = "python benchmarks/codec_bottleneck_probe.py " + " ".join(shown)
    lines = [
        "# Where the code round trip loses the words",
        "",
        f"Made by `{command}` ({len(rows)} references; Whisper tiny.en, jiwer WER).",
        "",
        "| decoding | WER |",
        "|---|---|",
    ]
    lines += [f"| {name} | {100 * jiwer.wer(refs, hyp):.1f} % |" for name, hyp in heard.items()]
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
