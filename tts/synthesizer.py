"""The facade: front end + prompt encoder + model family + codec, behind two calls.

    synth = Synthesizer.from_pretrained("palette-mini-en")       # or a model directory
    voice = synth.encode_voice("prompt.wav", "what the prompt says")
    audio = synth.synthesize("Hello there.", voice, options=SynthesisOptions(family="par"))
    for chunk in synth.stream("Hello there.", voice): ...

The facade knows no family: it reads the family table (``palette.models.families``), resolves
the options, and hands sentences to the one sentence loop (``palette.streaming.loop.speak``).
Model directories are read by ``ModelBundle`` (``tts/bundle.py``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from tqdm import tqdm

from palette.codec import Codec, UserError, load_codec
from palette.models.families import FAMILIES, get_family
from palette.streaming.loop import Speaker, speak
from palette.tts.audio import PromptLimits, load_audio, prepare_prompt, resample
from palette.tts.bundle import ModelBundle
from palette.tts.document import ReadingOptions, iter_segments
from palette.tts.frontend import TextFrontend
from palette.tts.options import SynthesisOptions, resolve_options
from palette.tts.symbols import SymbolTable
from palette.tts.voice import Audio, Voice

DEFAULT_OPTIONS = SynthesisOptions()
PROGRESS_FROM = 4  # show a progress bar from this many sentences on
MAX_PHONEMES_PER_SECOND = 40  # a prompt transcript denser than this cannot be what it says


class Synthesizer:
    def __init__(
        self,
        codec: Codec,
        models: dict[str, tuple[torch.nn.Module, dict]],
        bundle: ModelBundle,
        compute_dtype: torch.dtype | None = None,
    ):
        """``compute_dtype``: ``torch.bfloat16`` runs the PyTorch stages' transformers under
        bfloat16 autocast (``models.precision``); ``None`` keeps float32."""
        from palette.models.precision import set_compute_dtype

        self.codec, self.bundle = codec, bundle
        self.models = {stage: model for stage, (model, _) in models.items()}
        self.compute_dtype = compute_dtype
        for model in self.models.values():
            if isinstance(model, torch.nn.Module):
                set_compute_dtype(model, compute_dtype)
        self.configs = {stage: config for stage, (_, config) in models.items()}
        symbols = next(iter(self.configs.values()))["symbols"]
        self.frontend = TextFrontend(bundle.language, SymbolTable.from_dict(symbols))

    @classmethod
    def from_pretrained(
        cls,
        name_or_dir: str | os.PathLike | None = None,
        allow_download: bool | None = None,
        runtime: str = "auto",
        precision: str = "auto",
        ort_options=None,
    ) -> Synthesizer:
        """A shipped model name (``available_models()``) or a model directory. A codec named by
        a Hugging Face id is fetched only with ``allow_download`` (or PALETTE_ALLOW_DOWNLOAD=1).
        ``runtime``: ``"torch"`` (PyTorch eager), ``"onnx"`` (onnxruntime over the graphs
        ``palette export`` wrote into the directory; stages without graphs stay in PyTorch) or
        ``"auto"`` (onnx when onnxruntime is installed, the directory has up-to-date
        graphs and ``palette export`` measured them faster). ``precision`` of the stages run in
        PyTorch: ``"fp32"``, ``"bf16"`` (autocast in the transformers) or ``"auto"`` (bf16 where
        the processor computes it natively; ``models.precision``). ``ort_options``: the
        onnxruntime sessions' ``streaming.onnx.OrtOptions`` (threads, providers, CUDA graphs)."""
        from palette.models.precision import compute_dtype
        from palette.streaming.onnx import choose_runtime
        from palette.tts.registry import resolve_model

        dtype = compute_dtype(precision)
        bundle = ModelBundle.read(resolve_model(name_or_dir))
        if choose_runtime(bundle, runtime) == "torch":
            codec = load_codec(bundle.codec_ref, allow_download=allow_download).eval()
            return cls(codec, bundle.load_models(), bundle, dtype)
        from palette.streaming.onnx import OrtOptions, graph_stages, ort_stand_ins

        exported = set(graph_stages(bundle))
        torch_models = bundle.load_models([s for s in bundle.stages if s not in exported])
        codec = (
            None
            if bundle.onnx_graph("codec_encoder")
            else load_codec(bundle.codec_ref, allow_download=allow_download)
        )
        models, codec = ort_stand_ins(bundle, torch_models, codec, ort_options or OrtOptions())
        return cls(codec.eval(), models, bundle, dtype)

    @property
    def sample_rate(self) -> int:
        return self.codec.sample_rate

    @property
    def families(self) -> list[str]:
        return [name for name, f in FAMILIES.items() if f.available(self.models)]

    @property
    def speaker_dim(self) -> int:
        """E of the speaker embedding the model's stages take (0: none is speaker-conditioned)."""
        dims = {getattr(getattr(m, "config", None), "speaker_dim", 0) for m in self.models.values()}
        return max(dims | {0})

    # --- prompts -------------------------------------------------------------------------
    def encode_voice(self, prompt, prompt_text: str | None = None, adapt=False) -> Voice:
        """A path or ``(samples [S], sample_rate)`` plus its transcript -> ``Voice``. ``adapt``
        (``True`` or a ``models.adapt.AdaptOptions``): also fine-tune a few thousand parameters
        of the PAR stage on the prompt (``tts.adaptation``; seconds; saved with the voice); with
        ``AdaptOptions(decoder_steps=N)`` also the codec decoder's norms (``models.decoder_adapt``)."""
        if isinstance(prompt, (str, os.PathLike)):
            wav, sr = load_audio(prompt, max_seconds=PromptLimits().max_read_seconds)
        else:
            wav, sr = np.asarray(prompt[0], dtype=np.float32), int(prompt[1])
        wav = resample(prepare_prompt(wav, sr), sr, self.sample_rate)
        if prompt_text is None:
            from palette.tts.transcribe import transcribe

            prompt_text = transcribe(wav, self.sample_rate)
        try:
            phonemes = "".join(self.frontend(prompt_text).phonemes)
        except UserError as err:
            raise UserError(f"the prompt transcript: {err}") from None
        seconds = len(wav) / self.sample_rate
        if len(phonemes) > MAX_PHONEMES_PER_SECOND * seconds + 10:
            raise UserError(
                f"the prompt transcript is too long for a {seconds:.1f} s prompt "
                f"({len(phonemes)} phonemes; at most {MAX_PHONEMES_PER_SECOND} a "
                "second): give the transcript of the prompt only"
            )
        x = torch.from_numpy(wav)[None, None]
        with torch.inference_mode():
            codes = self.codec.encode(x)[0] if self.codec.has_codes else None
            latents = self.codec.encode_latents(x)[0][0] if self.codec.has_latents else None
        voice = Voice(self.bundle.codec, prompt_text, phonemes, codes, latents)
        if self.speaker_dim:
            from palette.tts.speaker_encoder import speaker_embedding

            voice.speaker = speaker_embedding(wav, self.sample_rate)
        if adapt:
            from palette.models.adapt import AdaptOptions
            from palette.tts.adaptation import adapt_voice

            options = adapt if isinstance(adapt, AdaptOptions) else AdaptOptions()
            voice = adapt_voice(self, voice, x, options)
        return voice

    # --- synthesis -----------------------------------------------------------------------
    def synthesize(
        self,
        text: str | list[str],
        prompt,
        prompt_text: str | None = None,
        options: SynthesisOptions = DEFAULT_OPTIONS,
    ) -> Audio | list[Audio]:
        """Speak ``text`` (or each of a list of texts) in the prompt's voice. ``prompt`` is a
        ``Voice``, an audio path, or ``(samples, sample_rate)``. Each sentence is generated to
        its end (refined where the family has a refine stage)."""
        voice = self._voice(prompt, prompt_text)
        if isinstance(text, list):
            return [self.synthesize(t, voice, options=options) for t in text]
        pieces = list(self.sentences(text, voice, options=options))
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return Audio(samples, self.sample_rate)

    def sentences(
        self,
        text: str,
        prompt,
        prompt_text: str | None = None,
        options: SynthesisOptions = DEFAULT_OPTIONS,
    ) -> Iterator[np.ndarray]:
        """``synthesize`` one sentence at a time: float32 audio ``[s]`` per finished sentence
        (and per pause between sentences), so that a long text can be written out as it goes
        with flat memory."""
        voice = self._voice(prompt, prompt_text)
        return self._speak(text, voice, options, whole=True)

    def stream(
        self,
        text: str,
        prompt,
        prompt_text: str | None = None,
        options: SynthesisOptions = DEFAULT_OPTIONS,
    ) -> Iterator[np.ndarray]:
        """Yield float32 audio chunks ``[s]`` as frames are generated (sentence by sentence,
        with the pause between sentences as its own chunk). Streamed sentences are not refined;
        otherwise the stream equals ``synthesize`` for the same seed."""
        voice = self._voice(prompt, prompt_text)
        return self._speak(text, voice, options, whole=False)

    def read(
        self,
        lines: Iterable[str],
        prompt,
        prompt_text: str | None = None,
        options: SynthesisOptions = DEFAULT_OPTIONS,
        reading: ReadingOptions | None = None,
        total: int | None = None,
    ) -> Iterator[np.ndarray]:
        """Long-form: a chapter or a book (plain text or Markdown lines, read lazily) spoken one
        finished sentence at a time, with the document's pauses (paragraphs, headings, list
        items) between sentences. Memory stays flat however long the input; ``total`` (the
        number of segments, ``count_segments``) gives the progress bar its ETA."""
        voice = self._voice(prompt, prompt_text)
        family, options = self.resolve_family(options)
        reading = reading or ReadingOptions(max_chars=options.max_sentence_chars)
        bar = tqdm(
            iter_segments(lines, reading),
            total=total,
            desc="read",
            unit="segment",
            disable=total is not None and total < PROGRESS_FROM,
        )
        texts: list[str] = []
        items = self._segment_items(bar, options, texts)
        return speak(
            self._speaker(family, voice), items, options, True, self._check(options, True, texts)
        )

    def _segment_items(self, segments, options, texts: list[str]):
        """Segments -> ``(phoneme ids, pause after)`` of their sentences (their texts appended
        to ``texts``); a segment with nothing speakable is skipped with a warning."""
        for segment in segments:
            try:
                sentences = self.frontend.sentences(segment.text, options.max_sentence_chars)
            except UserError as err:
                warnings.warn(f"skipped {segment.text[:40]!r}: {err}", stacklevel=2)
                continue
            for i, sentence in enumerate(sentences):
                texts.append(sentence.normalized)
                yield sentence.ids, (segment.pause_after_s if i == len(sentences) - 1 else None)

    def _speaker(self, family, voice: Voice) -> Speaker:
        from palette.tts.adaptation import voice_models

        prompt_ids = self.frontend.symbols.encode(list(voice.phonemes))
        models, codec = voice_models(self, voice)
        return Speaker(
            family,
            models,
            codec,
            prompt_ids,
            self.frontend.symbols.encode([" "]),
            voice.codes,
            voice.latents,
            self.voice_speaker(voice),
        )

    def voice_speaker(self, voice: Voice) -> torch.Tensor | None:
        """The voice's speaker embedding for a speaker-conditioned model (checked), else None."""
        if not self.speaker_dim:
            return None
        if voice.speaker is None:
            warnings.warn(
                "the voice has no speaker embedding (saved for a model without one): it speaks "
                "from its prompt alone; encode the prompt again for the speaker encoder's help",
                stacklevel=3,
            )
            return None
        if voice.speaker.shape != (self.speaker_dim,):
            raise UserError(
                f"the voice's speaker embedding has {voice.speaker.shape[0]} values; "
                f"this model takes {self.speaker_dim}"
            )
        return voice.speaker

    def _speak(
        self, text: str, voice: Voice, options: SynthesisOptions, whole: bool
    ) -> Iterator[np.ndarray]:
        family, options = self.resolve_family(options)
        if not isinstance(text, str):
            raise UserError(f"the text to speak must be a string, not {type(text).__name__}")
        try:
            sentences = self.frontend.sentences(text, options.max_sentence_chars)
        except UserError as err:
            raise UserError(f"the text to speak: {err}") from None
        if not sentences:
            raise UserError(f"the text to speak: nothing speakable in {text[:60]!r}")
        ids = (
            s.ids
            for s in tqdm(
                sentences,
                desc="synthesise",
                unit="sentence",
                disable=not whole or len(sentences) < PROGRESS_FROM,
            )
        )
        texts = [s.normalized for s in sentences]
        return speak(
            self._speaker(family, voice), ids, options, whole, self._check(options, whole, texts)
        )

    def _check(self, options: SynthesisOptions, whole: bool, texts: list[str]):
        """The loop's take check for ``verify`` (``None`` when off)."""
        if not options.verify:
            return None
        if not whole:
            warnings.warn(
                "verify applies to offline synthesis only: streamed audio cannot be taken back",
                stacklevel=4,
            )
            return None
        checker = self.checker

        def check(index: int, audio: np.ndarray):
            score = checker(audio, self.sample_rate, texts[index])
            if hasattr(checker, "log"):
                checker.log.append((index, score))
            return score

        return check

    @property
    def checker(self):
        """What hears takes back for ``verify`` (``tts.verify.WhisperChecker`` unless set)."""
        if getattr(self, "_checker", None) is None:
            from palette.tts.verify import WhisperChecker

            self._checker = WhisperChecker()
        return self._checker

    @checker.setter
    def checker(self, value) -> None:
        self._checker = value

    def resolve_family(self, options: SynthesisOptions):
        """-> (the family, the options with the model's recommendations filled in). Options
        the family would ignore are reported with a warning."""
        name = options.family or self.bundle.default_family or self.families[0]
        if name not in self.families:
            raise UserError(f"this model has no {name!r} family; it has {', '.join(self.families)}")
        family = get_family(name)
        for message in options.ignored_by(family):
            warnings.warn(message, stacklevel=3)
        return family, self.resolve(options, name)

    def resolve(self, options: SynthesisOptions, family: str) -> SynthesisOptions:
        """Fill the options left at ``None`` from the model's recommendation for ``family``."""
        try:
            return resolve_options(options, self.bundle.recommended(family))
        except UserError as err:
            raise UserError(
                f"{self.bundle.directory / 'bundle.json'}: sampling.{family}: {err}"
            ) from None

    def _voice(self, prompt, prompt_text: str | None) -> Voice:
        if not isinstance(prompt, Voice):
            return self.encode_voice(prompt, prompt_text)
        if prompt.codec != self.bundle.codec:
            raise UserError(
                f"the voice was encoded with codec {prompt.codec!r}, but this model "
                f"uses {self.bundle.codec!r}: encode the prompt again"
            )
        prompt.check_codec(self.codec)
        return prompt
