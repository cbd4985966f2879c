"""Prompt adaptation for the synthesis API: adapt a ``Voice`` to its own prompt
(``models.adapt``; with ``AdaptOptions.decoder_steps`` also the codec decoder,
``models.decoder_adapt``) and give the loop the adapted stage and codec when such a voice speaks.

An adapted voice carries the adapted parameters (``par.<name>``, ``codec.<name>``) and the
SHA-256 of the weights they were trained against (the ``par`` stage's; with a decoder
adaptation, of that and the codec's); a model with other weights refuses the voice (encode it
again). The adapted copies are cached (the last few voices), so a voice that speaks many
sentences is put together once.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import torch
from tqdm import tqdm

from palette.codec import UserError
from palette.models.adapt import AdaptLog, AdaptOptions, adapt, adapted_copy
from palette.models.decoder_adapt import adapt_decoder, decoder_adapted_copy
from palette.tts.voice import Voice

STAGE = "par"  # the stage that is adapted
CODEC = "codec"  # prefix of the codec decoder's adapted parameters
CACHED = 4  # adapted copies kept per synthesizer
_lock = threading.Lock()


def stage_hash(synth) -> str:
    """SHA-256 of the adapted stage's weights (computed once per synthesizer)."""
    if getattr(synth, "_stage_hash", None) is None:
        synth._stage_hash = synth.bundle.weight_hashes()[STAGE]
    return synth._stage_hash


def codec_hash(synth) -> str:
    """SHA-256 of the codec's weights (computed once per synthesizer)."""
    if getattr(synth, "_codec_hash", None) is None:
        synth._codec_hash = _digest(synth.codec.state_dict())
    return synth._codec_hash


def weights_hash(synth, adaptation: dict[str, torch.Tensor]) -> str:
    """What an adaptation is valid for: the stage's hash, and the codec's when it has
    decoder parameters."""
    if not any(k.startswith(f"{CODEC}.") for k in adaptation):
        return stage_hash(synth)
    return hashlib.sha256(f"{stage_hash(synth)}:{codec_hash(synth)}".encode()).hexdigest()


def _model(synth):
    model = synth.models.get(STAGE)
    if not isinstance(model, torch.nn.Module):
        raise UserError(
            "prompt adaptation needs the model's PyTorch weights: use --runtime torch "
            "(runtime='torch')"
        )
    return model


def adapt_voice(synth, voice: Voice, wav: torch.Tensor, options: AdaptOptions) -> Voice:
    """``voice`` (just encoded from ``wav [1, 1, S]``) with its adaptation: the stage for
    ``options.steps``, the codec decoder for ``options.decoder_steps`` (either may be 0, not
    both); a progress bar over the steps. The voice's ``adapt_log`` tells what was done."""
    if options.steps <= 0 and options.decoder_steps <= 0:
        raise UserError("nothing to adapt: both the stage's and the decoder's steps are 0")
    with torch.inference_mode():
        mean, logstd = synth.codec.encode_latents(wav)
    bar = tqdm(unit="step", leave=False)

    def progress(step: int, loss: float | None) -> None:
        bar.update(1)
        if loss is not None:
            bar.set_postfix(held_out=f"{loss:.3f}")

    adaptation, log = {}, AdaptLog()
    try:
        if options.steps > 0:
            bar.reset(total=options.steps)
            bar.set_description("adapt")
            text = torch.tensor(synth.frontend.symbols.encode(list(voice.phonemes)))
            speaker = synth.voice_speaker(voice)
            params, log = adapt(_model(synth), text, mean[0], logstd[0], options, progress, speaker)
            adaptation = {f"{STAGE}.{name}": value for name, value in params.items()}
        if options.decoder_steps > 0:
            bar.reset(total=options.decoder_steps)
            bar.set_description("adapt decoder")
            decoder, log.decoder = adapt_decoder(synth.codec, wav[0, 0], mean[0], options, progress)
            adaptation |= {f"{CODEC}.{name}": value for name, value in decoder.items()}
    except ValueError as err:
        raise UserError(f"cannot adapt to this prompt: {err}") from None
    finally:
        bar.close()
    voice.adaptation = adaptation
    voice.adapted_for = weights_hash(synth, adaptation)
    voice.adapt_log = log
    return voice


def _digest(adaptation: dict[str, torch.Tensor]) -> str:
    """SHA-256 over named tensors (names sorted)."""
    h = hashlib.sha256()
    for name in sorted(adaptation):
        h.update(name.encode())
        h.update(adaptation[name].numpy().tobytes())
    return h.hexdigest()


def voice_models(synth, voice: Voice) -> tuple[dict, object]:
    """The models and the codec the voice speaks with: ``synth.models`` and ``synth.codec``,
    with the adapted stage (and decoder) for an adapted voice (``UserError`` when it was
    adapted to other weights)."""
    if not voice.adaptation:
        return synth.models, synth.codec
    if voice.adapted_for != weights_hash(synth, voice.adaptation):
        raise UserError(
            "the voice was adapted to another model's weights: encode the prompt again "
            "(with --adapt) for this model"
        )
    split = {STAGE: {}, CODEC: {}}
    for name, value in voice.adaptation.items():
        prefix, _, rest = name.partition(".")
        if prefix not in split:
            raise UserError(f"the voice's adaptation names an unknown stage: {name!r}")
        split[prefix][rest] = value
    key = _digest(voice.adaptation)
    with _lock:
        cache = synth.__dict__.setdefault("_adapted", OrderedDict())
        if key not in cache:
            try:
                model = synth.models[STAGE]  # a decoder-only adaptation: any runtime's stage
                if split[STAGE]:
                    model = adapted_copy(_model(synth), split[STAGE])
                codec = synth.codec
                if split[CODEC]:
                    codec = decoder_adapted_copy(synth.codec, split[CODEC])
            except ValueError as err:
                raise UserError(f"the voice's adaptation does not fit this model: {err}") from None
            cache[key] = ({**synth.models, STAGE: model}, codec)
            while len(cache) > CACHED:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return cache[key]
