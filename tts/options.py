"""``SynthesisOptions``: every knob of one synthesis call, in one frozen dataclass.

Every value is checked when the options are made (``RANGES``), with a message that names the
option and its allowed range; options filled in from a model's ``bundle.json`` are checked the
same way, since filling them makes new options.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from palette.codec.files import UserError
from palette.models.speculative import MODES as SPECULATIVE_MODES

# option -> (type, lowest, highest); None bounds are open. Bounds keep every request finite:
# speed and duration bound the frames of a sentence, chunk/span sizes bound the passes.
RANGES: dict[str, tuple[type, float | None, float | None]] = {
    "temperature": (float, 0.0, 5.0),
    "top_k": (int, 0, None),
    "top_p": (float, 1e-6, 1.0),
    "ras_window": (int, 0, 1000),
    "ras_threshold": (float, 0.0, 1.0),
    "span": (int, 1, 100_000),
    "refine_iterations": (int, 0, 100),
    "refine_quantile": (float, 1e-6, 1.0),
    "speed": (float, 0.25, 4.0),
    "duration": (float, 0.05, 60.0),
    "seed": (int, 0, 2**62),
    "sentence_pause": (float, 0.0, 10.0),
    "max_sentence_chars": (int, 20, 5000),
    "chunk_frames": (int, 1, 100_000),
    "context_frames": (int, 0, 100_000),
    "draft_tokens": (int, 1, 256),
    "tau_ctc": (float, 0.0, 20.0),
    "tau_lm": (float, 0.0, 1.0),
    "verify_retries": (int, 0, 10),
    "verify_max_wer": (float, 0.0, 10.0),
    "speaker_scale": (float, 0.0, 4.0),
}


@dataclass(frozen=True)
class SynthesisOptions:
    family: str | None = None  # "ar", "par" or "kalle"; None = the bundle's default
    temperature: float | None = None  # sampling temperature (kalle, latent par: scale on the
    # sampled noise); None = the model's recommendation (bundle.json "sampling"), else 0.8
    top_k: int = 0  # ar: keep the k most likely codes (0 = all)
    top_p: float = 0.9  # ar/par (and kalle's refinement): nucleus sampling
    ras_window: int = 10  # ar: repetition-aware sampling window (0 = off; codebook-1 models)
    ras_threshold: float = 0.1  # ar: repetition ratio that triggers resampling
    span: int | None = None  # par: frames committed per step; None = the model's, else 8
    refine_iterations: int = 2  # par, kalle, depth-head ar: refinement passes (needs a latent
    #   refine stage for kalle and ar); whole sentences only, streamed ones are not refined
    refine_quantile: float | None = None  # par, kalle, ar: fraction of frames re-masked per
    # pass; None = the model's recommendation, else 0.1
    speed: float = 1.0  # par: speaking rate relative to the prompt
    duration: float | None = None  # par: length of each sentence in seconds (overrides speed)
    seed: int = 0  # random seed; the same seed gives the same audio
    sentence_pause: float = 0.2  # seconds of silence between sentences
    max_sentence_chars: int = 250  # longer sentences are split at clauses
    chunk_frames: int = 10  # frames per streamed chunk, and per NAR completion step
    context_frames: int = 50  # codec frames of left context when decoding a chunk
    speculative: str | None = None  # ar, kalle: self-speculative decoding with the model's draft
    # head (ar: CTC over codes; kalle: a Gaussian per step): "exact" (ar only: greedy,
    # identical to greedy AR), "sampling" (same distribution as plain sampling), "relaxed"
    # (thresholds below); None = plain AR
    draft_tokens: int = 8  # ar, kalle, speculative: codes (steps) drafted and verified per pass
    tau_ctc: float = 0.5  # ar, relaxed: keep a whole draft span below this CTC entropy (nats;
    # a depth-head ar: the drafts' mean entropy per codebook)
    tau_lm: float | None = None  # ar, relaxed: else keep draft codes the model gives at least
    # this (a depth-head ar: frames whose codes' geometric-mean probability is); kalle,
    # relaxed: keep draft steps whose relative density exp(-mean(z^2)/2) is at least this;
    # None = the model's recommendation, else 0.1
    verify: bool = False  # offline: hear every sentence back (Whisper, the asr extra) and redo
    # a take whose word error rate is above verify_max_wer; streaming cannot take back audio
    verify_retries: int = 2  # verify: extra takes at most per sentence (the best one is kept)
    verify_max_wer: float = 0.2  # verify: a take with at most this word error rate is kept
    speaker_scale: float | None = None  # par with a speaker encoder: scale on the voice's
    # speaker embedding (0 = the prompt alone, as the model learnt with dropped embeddings;
    # > 1 leans harder on the encoder); None = the model's recommendation, else 1

    def __post_init__(self):
        if not isinstance(self.verify, bool):
            raise UserError(f"option verify must be true or false, not {self.verify!r}")
        if self.family is not None and not (isinstance(self.family, str) and self.family):
            raise UserError(f"option family must be a family name, not {self.family!r}")
        if self.speculative is not None and self.speculative not in SPECULATIVE_MODES:
            raise UserError(
                f"option speculative must be one of {', '.join(SPECULATIVE_MODES)} "
                f"(or unset), not {self.speculative!r}"
            )
        for name, (kind, low, high) in RANGES.items():
            value = getattr(self, name)
            if value is None and dataclasses.fields(self)[_INDEX[name]].default is None:
                continue
            _check(name, value, kind, low, high)

    def ignored_by(self, family) -> list[str]:
        """Messages for the options set away from their defaults that ``family`` (a
        ``palette.models.families.Family``) does not read (whisper's option check)."""
        from palette.models.families import FAMILIES, LOOP_OPTIONS

        messages = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in LOOP_OPTIONS or f.name in family.options or value == f.default:
                continue
            users = [name for name, other in FAMILIES.items() if f.name in other.options]
            messages.append(
                f"option {f.name}={value!r} has no effect with the {family.name} "
                f"family (it is used by {', '.join(users) or 'no family'})"
            )
        return messages


FALLBACK = {
    "temperature": 0.8,
    "span": 8,
    "speaker_scale": 1.0,
    "refine_quantile": 0.1,
    "tau_lm": 0.1,
}  # options left unset, not recommended


def resolve_options(options: SynthesisOptions, recommended: dict) -> SynthesisOptions:
    """Fill the options left at ``None`` from ``recommended`` (a model's ``bundle.json``
    ``"sampling"`` entry for the family), then from ``FALLBACK``."""
    merged = FALLBACK | recommended
    unset = {k: v for k, v in merged.items() if getattr(options, k) is None}
    return dataclasses.replace(options, **unset)


def _check(name: str, value, kind: type, low, high) -> None:
    fmt = (lambda x: f"{int(x):,}") if kind is int else (lambda x: f"{x:g}")
    span = fmt(low) if low is not None else "-inf"
    span += f" to {fmt(high)}" if high is not None else " or more"
    what = "a whole number" if kind is int else "a number"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not numeric or (kind is int and not float(value).is_integer()):
        raise UserError(f"option {name} must be {what} from {span}, not {value!r}")
    if (
        not math.isfinite(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise UserError(f"option {name}={value!r} is out of range: allowed {span}")


_INDEX = {f.name: i for i, f in enumerate(dataclasses.fields(SynthesisOptions))}
