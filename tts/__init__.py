"""palette-tts: zero-shot text-to-speech. The public API.

    from palette.tts import Synthesizer, SynthesisOptions
    synth = Synthesizer.from_pretrained("palette-mini-en")

The synthesizer, options and voice types are imported on first use, so that ``palette --help``
and the text tools start without loading torch.
"""

from palette.codec.files import UserError
from palette.tts.audio import AudioError, PromptLimits, load_audio, prepare_prompt
from palette.tts.audio_output import open_audio_output, save_audio, save_wav
from palette.tts.frontend import FrontendOutput, TextFrontend
from palette.tts.phonemes import phonemize
from palette.tts.symbols import SymbolTable
from palette.tts.text import normalize, split_sentences

__version__ = "0.1.0"

_LAZY = {
    "Synthesizer": "palette.tts.synthesizer",
    "SynthesisOptions": "palette.tts.options",
    "Voice": "palette.tts.voice",
    "VoiceFileError": "palette.tts.voice",
    "Audio": "palette.tts.voice",
    "available_models": "palette.tts.registry",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Audio",
    "AudioError",
    "FrontendOutput",
    "PromptLimits",
    "SymbolTable",
    "SynthesisOptions",
    "Synthesizer",
    "TextFrontend",
    "UserError",
    "Voice",
    "VoiceFileError",
    "available_models",
    "load_audio",
    "normalize",
    "phonemize",
    "open_audio_output",
    "prepare_prompt",
    "save_audio",
    "save_wav",
    "split_sentences",
]
