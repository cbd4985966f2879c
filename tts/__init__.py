"""palette-tts: zero-shot text-to-speech. Public API of the text front end and audio I/O."""

from palette.tts.audio import AudioError, PromptLimits, load_audio, prepare_prompt, save_wav
from palette.tts.frontend import FrontendOutput, TextFrontend
from palette.tts.phonemes import phonemize
from palette.tts.symbols import SymbolTable
from palette.tts.text import normalize, split_sentences

__version__ = "0.1.0"
__all__ = [
    "AudioError",
    "FrontendOutput",
    "PromptLimits",
    "SymbolTable",
    "TextFrontend",
    "load_audio",
    "normalize",
    "phonemize",
    "prepare_prompt",
    "save_wav",
    "split_sentences",
]
