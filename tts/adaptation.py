"""Prompt adaptation for the synthesis API: adapt a ``Voice`` to its own prompt
(``models.adapt``) and give the loop the adapted stage when such a voice speaks.

An adapted voice carries the adapted parameters of the ``par`` stage and the SHA-256 of the
weights they were trained against; a model with other weights refuses the voice (encode it
again). The adapted copies of the stage are cached (the last few voices), so a voice that
speaks many sentences is put together once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import torch
from tqdm import tqdm

from palette.codec import UserError
from palette.models.adapt import AdaptOptions, adapt, adapted_copy
from palette.tts.voice import Voice

STAGE = "par"  # the stage that is adapted
CACHED = 4  # adapted copies kept per synthesizer
_lock = threading.Lock()


def stage_hash(synth) -> str:
    """SHA-256 of the adapted stage's weights (computed once per synthesizer)."""
    if getattr(synth, "_stage_hash", None) is None:
        synth._stage_hash = synth.bundle.weight_hashes()[STAGE]
    return synth._stage_hash


def _model(synth):
    model = synth.models.get(STAGE)
    if not isinstance(model, torch.nn.Module):
        raise UserError(
            "prompt adaptation needs the model's PyTorch weights: use --runtime torch "
            "(runtime='torch')"
        )
    return model


def adapt_voice(synth, voice: Voice, wav: torch.Tensor, options: AdaptOptions) -> Voice:
    """``voice`` (just encoded from ``wav [1, 1, S]``) with its adaptation; a progress bar
    over the steps. The voice's ``adapt_log`` tells what was done."""
    model = _model(synth)
    with torch.inference_mode():
        mean, logstd = synth.codec.encode_latents(wav)
    text = torch.tensor(synth.frontend.symbols.encode(list(voice.phonemes)))
    bar = tqdm(total=options.steps, desc="adapt", unit="step", leave=False)

    def progress(step: int, loss: float | None) -> None:
        bar.update(1)
        if loss is not None:
            bar.set_postfix(held_out=f"{loss:.3f}")

    try:
        speaker = synth.voice_speaker(voice)
        params, log = adapt(model, text, mean[0], logstd[0], options, progress, speaker)
    except ValueError as err:
        raise UserError(f"cannot adapt to this prompt: {err}") from None
    finally:
        bar.close()
    voice.adaptation = {f"{STAGE}.{name}": value for name, value in params.items()}
    voice.adapted_for = stage_hash(synth)
    voice.adapt_log = log
    return voice


def _digest(adaptation: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(adaptation):
        h.update(name.encode())
        h.update(adaptation[name].numpy().tobytes())
    return h.hexdigest()


def voice_models(synth, voice: Voice) -> dict:
    """The models the voice speaks with: ``synth.models``, with the adapted stage for an
    adapted voice (``UserError`` when it was adapted to other weights)."""
    if not voice.adaptation:
        return synth.models
    if voice.adapted_for != stage_hash(synth):
        raise UserError(
            "the voice was adapted to another model's weights: encode the prompt again "
            "(with --adapt) for this model"
        )
    prefix = f"{STAGE}."
    unknown = [k for k in voice.adaptation if not k.startswith(prefix)]
    if unknown:
        raise UserError(f"the voice's adaptation names an unknown stage: {unknown[0]!r}")
    key = _digest(voice.adaptation)
    with _lock:
        cache = synth.__dict__.setdefault("_adapted", OrderedDict())
        if key not in cache:
            tensors = {k[len(prefix) :]: v for k, v in voice.adaptation.items()}
            try:
                model = adapted_copy(_model(synth), tensors)
            except ValueError as err:
                raise UserError(f"the voice's adaptation does not fit this model: {err}") from None
            cache[key] = {**synth.models, STAGE: model}
            while len(cache) > CACHED:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return cache[key]
