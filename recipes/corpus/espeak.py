"""Speech from espeak-ng's C library through ctypes, with the library and voice data of the
``espeakng-loader`` wheel (no system package).

espeak-ng keeps synthesis state in the library's globals (pitch flutter phase, echo buffer,
random generator), so the same text can sound slightly different depending on what was said
before. To make every render reproducible, each utterance loads the library afresh and unloads
it afterwards (about a millisecond). The library loaded is a private copy of the wheel's, so
that nothing else in the process (phonemizer keeps the original loaded) holds it open.

The C API used (``speak_lib.h``)::

    int espeak_Initialize(espeak_AUDIO_OUTPUT output, int buflength, const char *path, int options);
    void espeak_SetSynthCallback(int (*cb)(short *wav, int numsamples, espeak_EVENT *events));
    espeak_ERROR espeak_SetVoiceByName(const char *name);          /* "en-us+f3" */
    espeak_ERROR espeak_SetParameter(espeak_PARAMETER parameter, int value, int relative);
    espeak_ERROR espeak_Synth(const void *text, size_t size, unsigned int position,
                              espeak_POSITION_TYPE position_type, unsigned int end_position,
                              unsigned int flags, unsigned int *unique_identifier, void *user_data);
    espeak_ERROR espeak_Synchronize(void);
    espeak_ERROR espeak_Terminate(void);
    void espeak_ng_SetRandSeed(long seed);                          /* espeak-ng >= 1.52 */
"""

from __future__ import annotations

import _ctypes
import atexit
import ctypes
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from palette.recipes.corpus.voices import EspeakVoice

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH, _RANGE = 1, 3, 4  # espeak_PARAMETER values
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakError(RuntimeError):
    """espeak-ng refused a voice or failed to speak."""


def _paths() -> tuple[str, str]:
    import espeakng_loader

    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


@functools.cache
def _private_library() -> str:
    """A copy of the library in a temporary folder, removed when the process exits."""
    folder = tempfile.mkdtemp(prefix="palette-espeak-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return shutil.copy(_paths()[0], folder)


def variant_exists(variant: str) -> bool:
    """Whether ``espeak-ng-data/voices/!v/<variant>`` exists (espeak-ng ignores unknown ones)."""
    return (Path(_paths()[1]) / "voices" / "!v" / variant).is_file()


def synthesize(text: str, voice: EspeakVoice, seed: int = 0) -> tuple[np.ndarray, int]:
    """Speak ``text`` with ``voice`` -> (``[S]`` float32 in [-1, 1], sample rate (22050)).

    The same arguments give the same samples on every call.
    """
    if not variant_exists(voice.variant):
        raise EspeakError(f"espeak-ng has no voice variant {voice.variant!r}")
    data_path = _paths()[1]
    lib = ctypes.CDLL(_private_library())
    chunks: list[np.ndarray] = []

    @_CALLBACK
    def collect(samples, count, _events):
        if count > 0:
            chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    try:
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if sample_rate <= 0:
            raise EspeakError(f"espeak-ng failed to initialise with data at {data_path}")
        lib.espeak_SetSynthCallback(collect)
        name = f"{voice.language}+{voice.variant}".encode()
        if lib.espeak_SetVoiceByName(name) != 0:
            raise EspeakError(f"espeak-ng has no voice {voice.language!r}")
        for parameter, value in (
            (_RATE, voice.rate),
            (_PITCH, voice.pitch),
            (_RANGE, voice.pitch_range),
        ):
            lib.espeak_SetParameter(parameter, int(value), 0)
        if hasattr(lib, "espeak_ng_SetRandSeed"):
            lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
        data = text.encode("utf-8")
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        status = lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        if status != 0:
            raise EspeakError(f"espeak-ng could not speak {text!r} (error {status})")
        lib.espeak_Terminate()
    finally:
        handle = lib._handle
        del lib
        _ctypes.dlclose(handle)  # the next call starts from a fresh library state
    if not chunks:
        raise EspeakError(f"espeak-ng produced no audio for {text!r}")
    return np.concatenate(chunks).astype(np.float32) / 32768.0, sample_rate
