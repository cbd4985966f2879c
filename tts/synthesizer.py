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

import dataclasses
import json
import os
from collections.abc import Iterator

import numpy as np
import torch
from palette.codec import Codec, load_codec
from palette.models.generate import ARGenerator, GaussianSampling, length_cap
from palette.models.loading import load_model
from palette.models.par_generate import PARGenerator, PAROptions, target_length
from palette.models.sampling import SamplingOptions
from palette.streaming.loop import StreamOptions, decode_stream, rechunk
from palette.tts.audio import load_audio, prepare_prompt, resample
from palette.tts.frontend import TextFrontend
from palette.tts.options import SynthesisOptions
from palette.tts.symbols import SymbolTable
from palette.tts.voice import Audio, Voice
from tqdm import tqdm

STAGES = ("ar", "nar", "kalle", "par", "refine")
FALLBACK = {"temperature": 0.8, "span": 8}  # for options a model does not recommend


class Synthesizer:
    def __init__(self, codec: Codec, models: dict, bundle: dict, language: str = "en-us"):
        self.codec, self.models, self.bundle = codec, models, bundle
        symbols = next(iter(models.values()))[1]["symbols"]
        self.frontend = TextFrontend(language, SymbolTable.from_dict(symbols))

    @classmethod
    def from_pretrained(cls, name_or_dir: str | os.PathLike) -> Synthesizer:
        from palette.tts.registry import resolve_model

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
            from palette.tts.transcribe import transcribe

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
        voice = self._voice(prompt, prompt_text)
        if isinstance(text, list):
            return [self.synthesize(t, voice, options=options) for t in text]
        pieces = []
        pause = np.zeros(int(options.sentence_pause * self.sample_rate), dtype=np.float32)
        sentences = self.frontend.sentences(text, options.max_sentence_chars)
        bar = tqdm(sentences, desc="synthesise", unit="sentence", disable=len(sentences) < 4)
        for i, sentence in enumerate(bar):
            seeded = dataclasses.replace(options, seed=options.seed + i)
            generated = list(self.frame_pieces(sentence.ids, voice, seeded))
            frames = torch.cat(generated, dim=-1) if generated else self._no_frames(voice, options)
            pieces += [pause] if pieces else []
            pieces.append(self.decode(frames, voice, self._family(options), options.context_frames))
        return Audio(np.concatenate(pieces), self.sample_rate)

    def _voice(self, prompt, prompt_text: str | None) -> Voice:
        if not isinstance(prompt, Voice):
            return self.encode_voice(prompt, prompt_text)
        if prompt.codec != self.bundle["codec"]:
            raise ValueError(f"the voice was encoded with codec {prompt.codec!r}, but this model "
                             f"uses {self.bundle['codec']!r}: encode the prompt again")  # fmt: skip
        return prompt

    def _no_frames(self, voice: Voice, options: SynthesisOptions) -> torch.Tensor:
        return self._prompt_frames(voice, self._family(options))[:, :0]

    def _prompt_frames(self, voice: Voice, family: str) -> torch.Tensor:
        """The voice's frames in the form ``family`` generates: latents ``[D, T]`` or codes
        ``[Q, T]``."""
        return voice.latents if self.continuous(family) else voice.codes

    def continuous(self, family: str) -> bool:
        """Whether ``family`` generates codec latents (kalle, latent PAR) rather than codes."""
        return family == "kalle" or getattr(self.models[family][0], "continuous", False)

    def resolve(self, options: SynthesisOptions, family: str) -> SynthesisOptions:
        """Fill the options left at ``None`` from the model's recommendation for ``family``
        (``bundle.json``: ``{"sampling": {"par": {"temperature": 0.4, "span": 32}}}``)."""
        recommended = FALLBACK | self.bundle.get("sampling", {}).get(family, {})
        unset = {k: v for k, v in recommended.items() if getattr(options, k) is None}
        return dataclasses.replace(options, **unset)

    def _family(self, options: SynthesisOptions) -> str:
        family = options.family or self.bundle.get("default_family") or self.families[0]
        if family not in self.families:
            raise ValueError(
                f"this model has no {family!r} family; it has {', '.join(self.families)}"
            )
        return family

    def frame_pieces(self, target_ids: list[int], voice: Voice, options: SynthesisOptions,
                     stream: bool = False) -> Iterator[torch.Tensor]:  # fmt: skip
        """Target frames of one sentence as they are produced: codes ``[Q, t]`` or latents
        ``[D, t]`` per piece. ``stream=True`` leaves out PAR refinement (it rewrites committed
        frames)."""
        family = self._family(options)
        options = self.resolve(options, family)
        prompt_ids = self.frontend.symbols.encode(list(voice.phonemes))
        text = torch.tensor(prompt_ids + self.frontend.symbols.encode([" "]) + list(target_ids))
        model, _ = self.models[family]
        cap = length_cap(len(target_ids), self.codec.frame_rate)
        if family == "kalle":
            sampling = GaussianSampling(options.temperature)
            yield from _steps(ARGenerator(model, text, voice.latents, cap, sampling, options.seed))
            return
        if family == "ar":
            sampling = SamplingOptions(options.temperature, options.top_k, options.top_p,
                                       options.ras_window, options.ras_threshold)  # fmt: skip
            first = _steps(ARGenerator(model, text, voice.codes[0], cap, sampling, options.seed))
        else:
            if options.duration:
                length = max(1, round(options.duration * self.codec.frame_rate))
            else:
                length = target_length(
                    voice.frames, len(prompt_ids), len(target_ids), options.speed
                )
            par_opts = PAROptions(options.span, options.temperature, options.top_p,
                                  options.refine_iterations, options.refine_quantile)  # fmt: skip
            prompt = voice.latents if model.continuous else voice.codes[0]
            gen = PARGenerator(model, text, prompt, length, par_opts, seed=options.seed,
                               target_start=len(prompt_ids) + 1)  # fmt: skip
            refiner = None if stream else self.models.get("refine", (None,))[0]
            first = _steps(gen) if refiner is None else iter([gen.generate(refiner)])
            if model.continuous:
                yield from first
                return
        yield from self._complete_codebooks(first, text, voice, options.chunk_frames)

    def _complete_codebooks(self, first: Iterator[torch.Tensor], text, voice: Voice, chunk: int):
        """First-codebook pieces ``[t]`` -> all codebooks ``[Q, t']``, chunk by chunk: the NAR
        model sees the prompt and every frame completed so far as its prompt."""
        if voice.codes.shape[0] == 1:
            yield from (piece[None] for piece in first)
            return
        if "nar" not in self.models:
            raise FileNotFoundError(
                "the codec has several codebooks but the model has no nar stage"
            )
        nar, prefix = self.models["nar"][0], voice.codes
        for piece in rechunk(first, chunk):
            full = nar.complete(text, prefix, piece)
            prefix = torch.cat([prefix, full], dim=-1)
            yield full

    def stream(self, text: str, prompt, prompt_text: str | None = None,
               options: SynthesisOptions = SynthesisOptions()) -> Iterator[np.ndarray]:  # fmt: skip
        """Yield float32 audio chunks ``[s]`` as frames are generated (sentence by sentence,
        with the pause between sentences as its own chunk)."""
        voice = self._voice(prompt, prompt_text)
        family = self._family(options)
        stream_opts = StreamOptions(options.chunk_frames, options.context_frames)
        pause = np.zeros(int(options.sentence_pause * self.sample_rate), dtype=np.float32)
        for i, sentence in enumerate(self.frontend.sentences(text, options.max_sentence_chars)):
            if i:
                yield pause
            seeded = dataclasses.replace(options, seed=options.seed + i)
            pieces = rechunk(self.frame_pieces(sentence.ids, voice, seeded, stream=True),
                             options.chunk_frames)  # fmt: skip
            yield from decode_stream(self.codec, pieces, self._prompt_frames(voice, family),
                                     self.continuous(family), stream_opts)  # fmt: skip

    def decode(
        self, frames: torch.Tensor, voice: Voice, family: str, context: int = 50
    ) -> np.ndarray:
        """Decode target frames with the prompt's last frames as left context."""
        prompt = self._prompt_frames(voice, family)
        chunks = decode_stream(self.codec, iter([frames]), prompt, self.continuous(family),
                               StreamOptions(frames.shape[-1] or 1, context))  # fmt: skip
        return next(chunks, np.zeros(0, dtype=np.float32))


def _steps(generator) -> Iterator[torch.Tensor]:
    """Pieces a generator's ``step()`` returns until it returns ``None``."""
    return iter(generator.step, None)
