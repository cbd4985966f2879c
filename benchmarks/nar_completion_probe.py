"""How much of the code round trip a trained NAR stage recovers from the true first codebook.
On held-out cuts with stored codes (``prepare.py features``), the first ``--prompt-share`` of
each cut is the prompt (every codebook) and the rest gives the NAR only its true first
codebook. Reports the NAR's cross-entropy and accuracy per codebook (uniform:
``log(cardinality)``), and Whisper tiny.en WER (the evaluation harness's normaliser) of
four decodings: the true codes, the NAR's completion, the first codebook alone, and the first
four true codebooks + the NAR's rest::

    python benchmarks/nar_completion_probe.py --nar exp/nar/final --manifests data/libritts-prep \\
        --out benchmarks/results/ar_families/nar_completion.md
"""

from __future__ import annotations

import argparse
import math
import sys

import torch
import torch.nn.functional as F

from palette.codec.files import UserError, write_text_atomic
from palette.codec.registry import load_codec
from palette.models.loading import load_model
from palette.models.masks import lengths_to_valid
from palette.recipes.evaluation.metrics.wer import corpus_wer, word_errors
from palette.recipes.libritts.lm_data import collate, load_cuts, read_meta


@torch.inference_mode()
def per_codebook(nar, batch, prompt_lens) -> list[tuple[int, float, float]]:
    """-> (codebook, cross-entropy, accuracy) on the non-prompt frames, codebooks 2..Q."""
    B, Q, T = batch.codes.shape
    scored = lengths_to_valid(batch.audio_lens, T) & ~lengths_to_valid(prompt_lens, T)
    out = []
    for stage in range(1, Q):
        args = (batch.text, batch.text_lens, batch.codes, batch.audio_lens, prompt_lens, stage)
        logits = nar.logits(*args)[scored]
        target = batch.codes[:, stage][scored]
        accuracy = (logits.argmax(-1) == target).float().mean()
        out.append((stage + 1, float(F.cross_entropy(logits, target)), float(accuracy)))
    return out


@torch.inference_mode()
def decodings(nar, codes: torch.Tensor, text: torch.Tensor, tp: int) -> dict[str, torch.Tensor]:
    """One cut's codes ``[Q, T]``, phonemes ``[Lt]``, prompt frames ``tp`` -> codes to decode."""
    completed = nar.complete(text, codes[:, :tp], codes[0, tp:])
    four = completed.clone()
    four[:4] = codes[:4, tp:]
    return {
        "true codes": codes,
        "first codebook + NAR": torch.cat([codes[:, :tp], completed], 1),
        "first codebook alone": codes[:1],
        "first four + NAR": torch.cat([codes[:, :tp], four], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nar", required=True, help="trained nar stage (a final/ directory)")
    parser.add_argument("--manifests", required=True, help="prepare.py output with features")
    parser.add_argument("--codec", default="palette-codec", help="codec the features came from")
    parser.add_argument("--part", default="test-clean", help="held-out subset")
    parser.add_argument("--cuts", type=int, default=8, help="cuts to score")
    parser.add_argument("--prompt-share", type=float, default=0.3, help="prompt share of a cut")
    parser.add_argument("--out", required=True, help="markdown report to write")
    args = parser.parse_args(argv)
    from palette.tts.transcribe import transcribe

    nar, _ = load_model(args.nar)
    codec = load_codec(args.codec)
    meta = read_meta(args.manifests, args.codec)
    cuts = list(load_cuts(args.manifests, args.codec, [args.part]))[: args.cuts]
    if not cuts:
        raise SystemExit(f"no cuts in {args.part}")
    batch = collate(cuts)
    prompt_lens = (batch.audio_lens.float() * args.prompt_share).long()
    refs, heard = [], {}
    for i, cut in enumerate(cuts):
        n = int(batch.audio_lens[i])
        text = batch.text[i, : batch.text_lens[i]]
        refs.append(cut.supervisions[0].text)
        for name, codes in decodings(nar, batch.codes[i, :, :n], text, int(prompt_lens[i])).items():
            try:
                said = transcribe(codec.decode(codes[None]).reshape(-1).numpy(), codec.sample_rate)
            except UserError:  # Whisper heard no speech
                said = ""
            heard.setdefault(name, []).append(said)
    shown = argv if argv is not None else sys.argv[1:]
    uniform = math.log(meta["cardinality"])
    lines = [
        "# NAR completion from the true first codebook",
        "",
        f"Made by `python benchmarks/nar_completion_probe.py {' '.join(shown)}` ({len(cuts)} "
        f"cuts of {args.part}; uniform cross-entropy {uniform:.2f}).",
        "",
        "| codebook | cross-entropy | accuracy |",
        "|---|---|---|",
    ]
    lines += [
        f"| {q} | {ce:.3f} | {100 * acc:.1f} % |"
        for q, ce, acc in per_codebook(nar, batch, prompt_lens)
    ]
    lines += ["", "| decoding | WER |", "|---|---|"]
    for name, hyp in heard.items():
        errors = [word_errors(r, h) for r, h in zip(refs, hyp, strict=True)]
        lines.append(f"| {name} | {100 * corpus_wer(errors):.1f} % |")
    write_text_atomic(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
