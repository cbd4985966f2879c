"""Arguments shared by ``palette synthesize`` and ``palette stream``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from palette.codec.files import UserError, UserFileNotFoundError
from palette.models.adapt import AdaptOptions
from palette.models.families import FAMILIES
from palette.models.precision import PRECISIONS
from palette.models.speculative import MODES as SPECULATIVE_MODES
from palette.tts.commands.outputs import VOICE_SUFFIX
from palette.tts.registry import DEFAULT_MODEL
from palette.tts.synthesizer import SynthesisOptions


def add_synthesis_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="text to speak (default: --text-file or stdin)")
    parser.add_argument("--text-file", help="read the text from this file")
    parser.add_argument(
        "--prompt",
        required=True,
        help="voice prompt: an audio file (1-20 s of speech) or a saved voice (.safetensors)",
    )
    parser.add_argument(
        "--prompt-text", help="what the prompt says (default: transcribe it; needs the eval extra)"
    )
    adapt = AdaptOptions()
    parser.add_argument(
        "--adapt",
        action="store_true",
        help="adapt to the prompt first: fine-tune the codec decoder's norms on the prompt's own "
        "round trip (~1.3 s on 2 cores; kept by --save-voice; PyTorch runtime). On held-out "
        "voices it raised speaker similarity (benchmarks/results/cloning/README.md)",
    )
    parser.add_argument(
        "--adapt-steps",
        type=int,
        default=adapt.steps,
        help="with --adapt: also fine-tune a few thousand parameters of the PAR stage, at most "
        f"this many steps (default {adapt.steps}: the stage is left as it is; it made the "
        "shipped model's speech worse; stops early on the prompt's held-out end)",
    )
    parser.add_argument(
        "--adapt-decoder-steps",
        type=int,
        default=adapt.decoder_steps,
        help="with --adapt: steps at most of the codec decoder's adaptation (default "
        f"{adapt.decoder_steps}; 0: the decoder is left as it is)",
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model name or directory (default {DEFAULT_MODEL})"
    )
    defaults = SynthesisOptions()
    parser.add_argument(
        "--family", choices=list(FAMILIES), help="model family (default: the model's)"
    )
    parser.add_argument("--speed", type=float, default=defaults.speed, help="speaking rate (par)")
    parser.add_argument(
        "--duration", type=float, help="seconds per sentence (par; overrides --speed)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument(
        "--temperature", type=float, help="sampling temperature (default: the model's)"
    )
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--top-p", type=float, default=defaults.top_p)
    parser.add_argument(
        "--span", type=int, help="par: frames committed per step (default: the model's)"
    )
    parser.add_argument(
        "--refine-iterations",
        type=int,
        default=defaults.refine_iterations,
        help="par, kalle: NAR refinement passes over the lowest-confidence frames, with the "
        "model's refine stage (0 = none; streamed sentences are never refined)",
    )
    parser.add_argument(
        "--refine-quantile",
        type=float,
        help="par, kalle: fraction of the sentence's frames re-predicted per refinement pass "
        "(default: the model's, else 0.1)",
    )
    parser.add_argument(
        "--speaker-scale",
        type=float,
        help="par with a speaker encoder: weight of the prompt's speaker embedding "
        "(0 = the in-context prompt alone; default: the model's, else 1)",
    )
    parser.add_argument(
        "--speculative",
        choices=SPECULATIVE_MODES,
        help="ar, kalle: self-speculative decoding with the model's draft head (exact = "
        "greedy, identical to greedy AR, ar only; sampling = same distribution as plain "
        "sampling; relaxed = --tau-ctc/--tau-lm thresholds)",
    )
    parser.add_argument(
        "--draft-tokens",
        type=int,
        default=defaults.draft_tokens,
        help="ar, kalle, --speculative: codes (steps) drafted per forward pass",
    )
    parser.add_argument(
        "--tau-ctc",
        type=float,
        default=defaults.tau_ctc,
        help="ar, --speculative relaxed: keep a whole draft span below this CTC entropy (nats; "
        "a depth-head ar: the drafts' mean entropy per codebook)",
    )
    parser.add_argument(
        "--tau-lm",
        type=float,
        help="ar, kalle, --speculative relaxed: keep draft codes (steps) the model finds at "
        "least this likely (a depth-head ar: geometric mean over a frame's codes; default: "
        "the model's, else 0.1)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        default=None,
        help="hear every sentence back with Whisper (asr extra) and redo a take "
        "that skips, repeats or garbles words (synthesize only)",
    )
    parser.add_argument(
        "--verify-retries",
        type=int,
        default=defaults.verify_retries,
        help="--verify: extra takes at most per sentence",
    )
    parser.add_argument(
        "--runtime",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="inference runtime: onnxruntime over the graphs `palette export` "
        "wrote into the model directory, PyTorch eager, or auto (onnx when "
        "onnxruntime is installed, the graphs are up to date and the export measured "
        "them faster)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="precision of the stages run in PyTorch: fp32, bf16 (autocast in the "
        "transformers), or auto (bf16 where the processor computes it natively, e.g. "
        "AVX512-BF16 or AMX; fp32 elsewhere)",
    )
    add_download_argument(parser)


def add_download_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-download",
        action="store_true",
        default=None,
        help="let a Hugging Face codec id be downloaded (default: local files only; "
        "also PALETTE_ALLOW_DOWNLOAD=1)",
    )


def read_text(args: argparse.Namespace) -> str:
    """The text to speak: the argument, ``--text-file`` (UTF-8) or stdin."""
    if args.text is not None:
        return args.text
    if args.text_file:
        return _read_text_file(Path(args.text_file))
    if sys.stdin is None or sys.stdin.isatty():
        raise UserError("no text: give it as an argument, with --text-file, or on stdin")
    try:
        return sys.stdin.read()
    except UnicodeDecodeError as err:
        raise UserError(f"the text on stdin is not UTF-8 ({_decode_detail(err)})") from None


def text_file_lines(path: str | Path) -> Iterator[str]:
    """The lines of a UTF-8 text file, read lazily (a book never sits in memory whole)."""
    path = Path(path)
    _read_text_file_checks(path)
    try:
        with open(path, encoding="utf-8") as fh:
            yield from fh
    except UnicodeDecodeError as err:
        raise UserError(f"text file {path} is not UTF-8 ({_decode_detail(err)})") from None
    except OSError as err:
        raise UserError(f"cannot read text file {path}: {err.strerror or err}") from None


def _read_text_file_checks(path: Path) -> None:
    if not path.exists():
        raise UserFileNotFoundError(f"text file not found: {path}")
    if path.is_dir():
        raise UserError(f"--text-file {path} is a directory")


def _read_text_file(path: Path) -> str:
    if not path.exists():
        raise UserFileNotFoundError(f"text file not found: {path}")
    if path.is_dir():
        raise UserError(f"--text-file {path} is a directory")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"text file {path} is not UTF-8 ({_decode_detail(err)})") from None
    except OSError as err:
        raise UserError(f"cannot read text file {path}: {err.strerror or err}") from None


def _decode_detail(err: UnicodeDecodeError) -> str:
    return f"byte 0x{err.object[err.start]:02x} at position {err.start}"


def options_from_args(args: argparse.Namespace) -> SynthesisOptions:
    fields = {f.name for f in dataclasses.fields(SynthesisOptions)}
    return SynthesisOptions(
        **{k: v for k, v in vars(args).items() if k in fields and v is not None}
    )


def check_prompt(args: argparse.Namespace):
    """Read and check ``--prompt`` before any model is loaded: a saved voice -> ``Voice``; an
    audio file -> its ``(samples [S], sample_rate)`` once it passed the prompt checks."""
    from palette.tts.audio import PromptLimits, load_audio, prepare_prompt
    from palette.tts.voice import Voice

    if str(args.prompt).endswith(VOICE_SUFFIX):
        return Voice.load(args.prompt)
    wav, sample_rate = load_audio(args.prompt, max_seconds=PromptLimits().max_read_seconds)
    with warnings.catch_warnings():  # the same warnings come again when the prompt is encoded
        warnings.simplefilter("ignore")
        prepare_prompt(wav, sample_rate)
    return wav, sample_rate


def load_voice(synth, prompt, args: argparse.Namespace):
    """The prompt (from ``check_prompt``) as a ``Voice`` of ``synth``'s codec."""
    from palette.tts.voice import Voice

    adapt = getattr(args, "adapt", False)
    if not isinstance(prompt, Voice):
        for flag, steps in (
            ("--adapt-steps", args.adapt_steps),
            ("--adapt-decoder-steps", args.adapt_decoder_steps),
        ):
            if adapt and steps < 0:
                raise UserError(f"{flag} must be 0 or more, not {steps}")
        if adapt and args.adapt_steps == 0 and args.adapt_decoder_steps == 0:
            raise UserError(
                "--adapt with --adapt-steps 0 and --adapt-decoder-steps 0 adapts nothing"
            )
        options = adapt and AdaptOptions(
            steps=args.adapt_steps, decoder_steps=args.adapt_decoder_steps
        )
        return synth.encode_voice(prompt, args.prompt_text, adapt=options)
    if adapt and not prompt.adaptation:
        raise UserError(
            f"--adapt needs the prompt's audio: {args.prompt} was saved without adaptation "
            "(give the audio file, or save the voice with --adapt --save-voice)"
        )
    if prompt.codec == synth.bundle.codec:
        prompt.check_codec(synth.codec)
    return prompt
