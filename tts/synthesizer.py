"""The facade: front end + prompt encoder + codec language models + codec.

    synth = Synthesizer.from_pretrained("path/to/model_dir")
    voice = synth.encode_voice("prompt.wav", "what the prompt says")
    audio = synth.synthesize("Hello there.", voice, options=SynthesisOptions(family="par"))
    audio.save("out.wav")

A model directory holds ``bundle.json`` (``{"codec": NAME_OR_DIR, "language": ..., "default_family":
...}``) and one sub-directory per trained stage (``ar``, ``nar``, ``kalle``, ``par``, ``refine``),
each with ``config.json`` + ``model.safetensors``. A relative codec path is resolved against the
bundle directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from codec import Codec, DecodeState, load_codec
from models.generate import ARGenerator, GaussianSampling, length_cap
from models.loading import load_model
from models.par_generate import PARGenerator, PAROptions, target_length
from models.sampling import SamplingOptions
from tts.audio import load_audio, prepare_prompt, resample
from tts.frontend import TextFrontend
from tts.symbols import SymbolTable
from tts.voice import Audio, Voice

STAGES = ("ar", "nar", "kalle", "par", "refine")


@dataclass(frozen=True)
class SynthesisOptions:
    family: str | None = None  # "ar", "par" or "kalle"; None = the bundle's default
    temperature: float = 0.8  # sampling temperature (kalle: scale on the sampled noise)
    top_k: int = 0  # ar: keep the k most likely codes (0 = all)
    top_p: float = 0.9  # ar/par: nucleus sampling
    ras_window: int = 10  # ar: repetition-aware sampling window (0 = off)
    ras_threshold: float = 0.1  # ar: repetition ratio that triggers resampling
    span: int = 8  # par: frames committed per step
    refine_iterations: int = 2  # par: refinement passes (needs a refine model)
    refine_quantile: float = 0.1  # par: fraction of frames re-masked per pass
    speed: float = 1.0  # par: speaking rate relative to the prompt
    duration: float | None = None  # par: length of each sentence in seconds (overrides speed)
    seed: int = 0  # random seed; the same seed gives the same audio
    sentence_pause: float = 0.2  # seconds of silence between sentences
    max_sentence_chars: int = 250  # longer sentences are split at clauses


class Synthesizer:
    def __init__(self, codec: Codec, models: dict, bundle: dict, language: str = "en-us"):
        self.codec, self.models, self.bundle = codec, models, bundle
        symbols = next(iter(models.values()))[1]["symbols"]
        self.frontend = TextFrontend(language, SymbolTable.from_dict(symbols))

    @classmethod
    def from_pretrained(cls, name_or_dir: str | os.PathLike) -> Synthesizer:
        from tts.registry import resolve_model

        directory = resolve_model(name_or_dir)
        bundle = json.loads((directory / "bundle.json").read_text())
        codec_ref = bundle["codec"]
        if (directory / codec_ref).is_dir():
            codec_ref = str(directory / codec_ref)
        models = {s: load_model(directory / s) for s in STAGES if (directory / s).is_dir()}
        if not models:
            raise FileNotFoundError(f"model directory {directory} has no trained stages")
        return cls(load_codec(codec_ref).eval(), models, bundle, bundle.get("language", "en-us"))

    @property
    def sample_rate(self) -> int:
        return self.codec.sample_rate

    @property
    def families(self) -> list[str]:
        return [f for f in ("ar", "par", "kalle") if f in self.models]

    # --- prompts -------------------------------------------------------------------------
    def encode_voice(self, prompt, prompt_text: str | None = None) -> Voice:
        """A path or ``(samples [S], sample_rate)`` plus its transcript -> ``Voice``."""
        if isinstance(prompt, (str, os.PathLike)):
            wav, sr = load_audio(prompt)
        else:
            wav, sr = np.asarray(prompt[0], dtype=np.float32), int(prompt[1])
        wav = resample(prepare_prompt(wav, sr), sr, self.sample_rate)
        if prompt_text is None:
            from tts.transcribe import transcribe

            prompt_text = transcribe(wav, self.sample_rate)
        phonemes = "".join(self.frontend(prompt_text).phonemes)
        x = torch.from_numpy(wav)[None, None]
        with torch.inference_mode():
            codes = self.codec.encode(x)[0] if self.codec.has_codes else None
            latents = self.codec.encode_latents(x)[0][0] if self.codec.has_latents else None
        return Voice(self.bundle["codec"], prompt_text, phonemes, codes, latents)

    # --- synthesis -----------------------------------------------------------------------
    def synthesize(
        self, text: str | list[str], prompt, prompt_text: str | None = None,
        options: SynthesisOptions = SynthesisOptions(),
    ) -> Audio | list[Audio]:  # fmt: skip
        """Speak ``text`` (or each of a list of texts) in the prompt's voice. ``prompt`` is a
        ``Voice``, an audio path, or ``(samples, sample_rate)``."""
        voice = prompt if isinstance(prompt, Voice) else self.encode_voice(prompt, prompt_text)
        if isinstance(text, list):
            return [self.synthesize(t, voice, options=options) for t in text]
        pieces = []
        pause = np.zeros(int(options.sentence_pause * self.sample_rate), dtype=np.float32)
        for i, sentence in enumerate(self.frontend.sentences(text, options.max_sentence_chars)):
            seeded = SynthesisOptions(**{**options.__dict__, "seed": options.seed + i})
            frames = self.generate_frames(sentence.ids, voice, seeded)
            pieces += [pause] if pieces else []
            pieces.append(self.decode(frames, voice, self._family(options)))
        return Audio(np.concatenate(pieces), self.sample_rate)

    def _family(self, options: SynthesisOptions) -> str:
        family = options.family or self.bundle.get("default_family") or self.families[0]
        if family not in self.families:
            raise ValueError(
                f"this model has no {family!r} family; it has {', '.join(self.families)}"
            )
        return family

    def generate_frames(self, target_ids: list[int], voice: Voice, options: SynthesisOptions):
        """Target frames for one sentence: codes ``[Q, T]`` or latents ``[D, T]``."""
        family = self._family(options)
        prompt_ids = self.frontend.symbols.encode(list(voice.phonemes))
        space = self.frontend.symbols.encode([" "])
        text = torch.tensor(prompt_ids + space + list(target_ids))
        model, _ = self.models[family]
        if family == "kalle":
            gen = ARGenerator(model, text, voice.latents, length_cap(len(target_ids), self.codec.frame_rate),
                              GaussianSampling(options.temperature), seed=options.seed)  # fmt: skip
            return gen.generate()
        if family == "ar":
            sampling = SamplingOptions(options.temperature, options.top_k, options.top_p,
                                       options.ras_window, options.ras_threshold)  # fmt: skip
            gen = ARGenerator(model, text, voice.codes[0], length_cap(len(target_ids), self.codec.frame_rate),
                              sampling, seed=options.seed)  # fmt: skip
            first = gen.generate()
        else:
            if options.duration:
                length = max(1, round(options.duration * self.codec.frame_rate))
            else:
                length = target_length(
                    voice.frames, len(prompt_ids), len(target_ids), options.speed
                )
            par_opts = PAROptions(options.span, options.temperature, options.top_p,
                                  options.refine_iterations, options.refine_quantile)  # fmt: skip
            gen = PARGenerator(model, text, voice.codes[0], length, par_opts, seed=options.seed)
            refiner = self.models.get("refine", (None,))[0]
            first = gen.generate(refiner)
        if voice.codes.shape[0] == 1:
            return first[None]
        if "nar" not in self.models:
            raise FileNotFoundError(
                "the codec has several codebooks but the model has no nar stage"
            )
        return self.models["nar"][0].complete(text, voice.codes, first)

    def decode(self, frames: torch.Tensor, voice: Voice, family: str) -> np.ndarray:
        """Decode target frames with the prompt's last frames as left context."""
        continuous = family == "kalle"
        prompt = voice.latents if continuous else voice.codes
        context = min(prompt.shape[-1], 50)
        state = DecodeState(context=context, frames=prompt[None, :, prompt.shape[-1] - context :])
        if frames.shape[-1] == 0:
            return np.zeros(0, dtype=np.float32)
        with torch.inference_mode():
            wav, _ = self.codec.decode_chunk(frames[None], state, continuous)
        return wav[0, 0].numpy().astype(np.float32)
