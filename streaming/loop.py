"""The sentence loop: sentences -> seeded options -> frame pieces -> chunks -> audio.

Every synthesis goes through :func:`speak`. Offline synthesis is the collected loop with
``whole=True``: each sentence is generated to the end (with refinement where the family has
it) and decoded in one piece. Streaming is ``whole=False``: frames are decoded ``chunk_frames``
at a time, as soon as the family commits them (AR and Gaussian models after every step, PAR
after every span), each chunk with the codec's left context (``DecodeState``), so the
concatenated stream equals the offline decode of the same frames (tested). Refinement rewrites
committed frames, so a streamed PAR sentence is not refined: for a model with a refine stage the
stream differs from the offline audio by exactly that pass. Pauses between sentences are their
own chunks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from palette.codec import Codec, DecodeState, FrameKind
from palette.models.families import Family, SentenceRequest, rechunk


@dataclass(frozen=True)
class Speaker:
    """What the loop needs to speak in one voice with one family: the family and its models,
    the codec, and the voice (its phoneme ids and frames)."""

    family: Family
    models: Mapping[str, torch.nn.Module]
    codec: Codec
    prompt_ids: list[int]  # the prompt transcript's phoneme ids
    separator: list[int]  # ids put between the prompt's and the target's phonemes
    prompt_codes: torch.Tensor | None  # [Q, Tp]
    prompt_latents: torch.Tensor | None  # [D, Tp]
    speaker: torch.Tensor | None = None  # [E] the prompt's speaker embedding

    @property
    def kind(self) -> FrameKind:
        return self.family.frame_kind(self.models)

    def request(self, target_ids: list[int]) -> SentenceRequest:
        text = torch.tensor(self.prompt_ids + self.separator + list(target_ids))
        return SentenceRequest(
            text,
            len(self.prompt_ids) + len(self.separator),
            self.prompt_codes,
            self.prompt_latents,
            self.codec.frame_rate,
            self.speaker,
        )


@dataclass
class Utterance:
    """The state of one sentence on its way through the loop."""

    index: int  # position in the text; the sentence's seed is options.seed + index
    options: object  # the SynthesisOptions for this sentence (seeded)
    decode: DecodeState  # the codec's left context
    frames: int = 0  # frames decoded so far


RETRY_SEED_STEP = 1_000_003  # a retried take's seed moves by this, away from other sentences'


def speak(
    speaker: Speaker,
    sentences: Iterable,
    options,
    whole: bool,
    check: Callable[[int, np.ndarray], object] | None = None,
) -> Iterator[np.ndarray]:
    """Yield float32 audio ``[s]`` for each sentence's phoneme ids: one piece per sentence when
    ``whole``, else one per ``options.chunk_frames`` frames; a pause of
    ``options.sentence_pause`` seconds between sentences, or the pause a sentence given as
    ``(ids, pause_after_seconds)`` asks for after it (long-form reading: paragraphs, headings).
    ``options`` is a resolved ``SynthesisOptions``.

    With ``check`` (whole sentences only), each take is scored by ``check(index, audio)`` (a
    ``TakeScore``); a take that is not ``acceptable`` (a skipped or repeated word, or a word
    error rate above ``options.verify_max_wer``) is redone with another seed, up to
    ``options.verify_retries`` times, and the best-ranked take is kept."""
    sr = speaker.codec.sample_rate
    prompt = speaker.request([]).prompt_frames(speaker.kind)
    pause_after = None
    for index, item in enumerate(sentences):
        ids, pause = item if isinstance(item, tuple) else (item, None)
        if index:
            seconds = options.sentence_pause if pause_after is None else pause_after
            yield np.zeros(int(seconds * sr), dtype=np.float32)
        pause_after = pause
        if whole and check is not None:
            yield _best_take(speaker, ids, index, options, prompt, check)
            continue
        utterance = Utterance(
            index,
            dataclasses.replace(options, seed=options.seed + index),
            _first_context(prompt, options.context_frames),
        )
        yield from _take(speaker, ids, utterance, options, whole)


def _take(
    speaker: Speaker, ids: list[int], utterance: Utterance, options, whole: bool
) -> Iterator[np.ndarray]:
    pieces = speaker.family.pieces(speaker.request(ids), speaker.models, utterance.options, whole)
    chunks = _whole(pieces) if whole else rechunk(pieces, options.chunk_frames)
    return decode_chunks(speaker.codec, chunks, utterance, speaker.kind)


def _best_take(speaker, ids, index, options, prompt, check) -> np.ndarray:
    best = best_score = None
    for attempt in range(1 + options.verify_retries):
        seed = options.seed + index + attempt * RETRY_SEED_STEP
        utterance = Utterance(
            index,
            dataclasses.replace(options, seed=seed),
            _first_context(prompt, options.context_frames),
        )
        pieces = list(_take(speaker, ids, utterance, options, whole=True))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        score = check(index, audio)
        if best is None or score.rank < best_score.rank:
            best, best_score = audio, score
        if score.acceptable(options.verify_max_wer):
            break
    return best


def _whole(pieces: Iterator[torch.Tensor]) -> Iterator[torch.Tensor]:
    collected = list(pieces)
    if collected:
        yield torch.cat(collected, dim=-1)


def _first_context(prompt: torch.Tensor, context: int) -> DecodeState:
    """The prompt's last ``context`` frames as the left context of a sentence's first chunk."""
    keep = min(context, prompt.shape[-1])
    return DecodeState(context=context, frames=prompt[None, :, prompt.shape[-1] - keep :])


def decode_chunks(
    codec: Codec, chunks: Iterable[torch.Tensor], utterance: Utterance, kind: FrameKind
) -> Iterator[np.ndarray]:
    """Decode chunks of frames ``[Q|D, t]`` as they come; yields float32 ``[t * hop]`` per
    chunk and keeps the left context in ``utterance.decode``."""
    for chunk in chunks:
        if chunk.shape[-1] == 0:
            continue
        with torch.inference_mode():
            wav, utterance.decode = codec.decode_chunk(chunk[None], utterance.decode, kind)
        utterance.frames += chunk.shape[-1]
        yield wav[0, 0].numpy().astype(np.float32)
