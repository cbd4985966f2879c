"""English speech from RHVoice (``librhvoice5`` + ``librhvoice-core7`` + ``rhvoice-english`` from Debian
non-free), through the library's C API with ctypes (its data and configuration paths are
parameters there; the ``RHVoice-test`` tool has them compiled in).

English voices and their licences (``rhvoice-english``'s copyright file):

- ``bdl`` (M), ``clb`` (F): LGPL-2.1+, built from the CMU ARCTIC speakers of those names;
- ``alan`` (M, Scottish), ``slt`` (F): LGPL-2.1+, built from CMU ARCTIC ``awb`` and ``slt``,
  the same speakers as flite's voices: reserved for held-out evaluation, never trained on;
- ``evgeniy-eng`` (M), ``lyubov`` (F): CC-BY-NC-ND-4.0: no derivatives, so never trained on
  (not even warped); usable as held-out test voices.

The C API used (``RHVoice.h``)::

    typedef struct { int (*set_sample_rate)(int, void*); int (*play_speech)(const short*,
        unsigned int, void*); int (*process_mark)(const char*, void*); int (*word_starts)(...);
        int (*word_ends)(...); int (*sentence_starts)(...); int (*sentence_ends)(...);
        int (*play_audio)(const char*, void*); void (*done)(void*); } RHVoice_callbacks;
    typedef struct { const char *data_path, *config_path; const char **resource_paths;
        RHVoice_callbacks callbacks; unsigned int options; } RHVoice_init_params;
    typedef struct { const char *voice_profile; double absolute_rate, absolute_pitch,
        absolute_volume, relative_rate, relative_pitch, relative_volume;
        int punctuation_mode; const char *punctuation_list; int capitals_mode; int flags;
    } RHVoice_synth_params;
    RHVoice_tts_engine RHVoice_new_tts_engine(const RHVoice_init_params*);
    RHVoice_message RHVoice_new_message(engine, const char *text, unsigned int length,
        int type /* 0 = text */, const RHVoice_synth_params*, void *user_data);
    int RHVoice_speak(RHVoice_message);          /* callbacks return 1 to go on */
    void RHVoice_delete_message(RHVoice_message); void RHVoice_delete_tts_engine(engine);
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable

LICENCES = {
    "bdl": "LGPL-2.1+ (voice built from CMU ARCTIC bdl)",
    "clb": "LGPL-2.1+ (voice built from CMU ARCTIC clb)",
    "alan": "LGPL-2.1+ (CMU ARCTIC awb; reserved for evaluation)",
    "slt": "LGPL-2.1+ (CMU ARCTIC slt; reserved for evaluation)",
    "evgeniy-eng": "CC-BY-NC-ND-4.0 (evaluation only)",
    "lyubov": "CC-BY-NC-ND-4.0 (evaluation only)",
}
VOICES = {"bdl": "M", "clb": "F", "alan": "M", "slt": "F", "evgeniy-eng": "M", "lyubov": "F"}
PACKAGES = ["librhvoice5", "librhvoice-core7", "rhvoice-english"]

_RATE_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_SPEECH_CB = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_uint, ctypes.c_void_p
)


class _Callbacks(ctypes.Structure):
    _fields_ = [("set_sample_rate", _RATE_CB), ("play_speech", _SPEECH_CB)] + [
        (n, ctypes.c_void_p)
        for n in (
            "process_mark",
            "word_starts",
            "word_ends",
            "sentence_starts",
            "sentence_ends",
            "play_audio",
            "done",
        )
    ]


class _InitParams(ctypes.Structure):
    _fields_ = [
        ("data_path", ctypes.c_char_p),
        ("config_path", ctypes.c_char_p),
        ("resource_paths", ctypes.c_void_p),
        ("callbacks", _Callbacks),
        ("options", ctypes.c_uint),
    ]


class _SynthParams(ctypes.Structure):
    _fields_ = (
        [("voice_profile", ctypes.c_char_p)]
        + [
            (n, ctypes.c_double)
            for n in (
                "absolute_rate",
                "absolute_pitch",
                "absolute_volume",
                "relative_rate",
                "relative_pitch",
                "relative_volume",
            )
        ]
        + [
            ("punctuation_mode", ctypes.c_int),
            ("punctuation_list", ctypes.c_char_p),
            ("capitals_mode", ctypes.c_int),
            ("flags", ctypes.c_int),
        ]
    )


class _Engine:
    """One RHVoice engine whose callbacks collect samples into ``self.chunks``."""

    def __init__(self, root) -> None:
        if not (root / "usr/share/RHVoice/voices").is_dir():
            raise SourceUnavailable(f"RHVoice voices missing under {root}")
        self.lib = debian.load_library(root, "libRHVoice.so*")
        self.lib.RHVoice_new_tts_engine.restype = ctypes.c_void_p
        self.lib.RHVoice_new_tts_engine.argtypes = [ctypes.POINTER(_InitParams)]
        self.lib.RHVoice_new_message.restype = ctypes.c_void_p
        self.lib.RHVoice_new_message.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.POINTER(_SynthParams),
            ctypes.c_void_p,
        ]
        self.lib.RHVoice_speak.argtypes = [ctypes.c_void_p]
        self.lib.RHVoice_delete_message.argtypes = [ctypes.c_void_p]
        self.chunks: list[np.ndarray] = []
        self.sample_rate = 0
        self._rate_cb = _RATE_CB(self._set_rate)
        self._speech_cb = _SPEECH_CB(self._speech)
        self.params = _InitParams(
            str(root / "usr/share/RHVoice").encode(),
            str(root / "etc/RHVoice").encode(),
            None,
            _Callbacks(self._rate_cb, self._speech_cb),
            0,
        )
        self.engine = self.lib.RHVoice_new_tts_engine(ctypes.byref(self.params))
        if not self.engine:
            raise SourceUnavailable("RHVoice failed to start (data under the cache?)")

    def _set_rate(self, rate: int, _user) -> int:
        self.sample_rate = rate
        return 1

    def _speech(self, samples, count: int, _user) -> int:
        self.chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 1

    def speak(self, voice: str, text: str, rate: float) -> tuple[np.ndarray, int]:
        self.chunks = []
        params = _SynthParams(voice.encode(), 0.0, 0.0, 1.0, rate, 1.0, 1.0, 0, None, 0, 0)
        data = text.encode("utf-8")
        message = self.lib.RHVoice_new_message(
            self.engine, data, len(data), 0, ctypes.byref(params), None
        )
        if not message:
            raise RuntimeError(f"RHVoice refused voice {voice!r} or text {text!r}")
        try:
            ok = self.lib.RHVoice_speak(message)
        finally:
            self.lib.RHVoice_delete_message(message)
        if not ok or not self.chunks:
            raise RuntimeError(f"RHVoice produced no audio for {text!r} ({voice})")
        return np.concatenate(self.chunks).astype(np.float32) / 32768.0, self.sample_rate


@functools.cache
def setup() -> _Engine:
    return _Engine(debian.fetch(PACKAGES))


def available() -> None:
    setup()


def synthesize(voice: str, text: str, rate: float = 1.0) -> tuple[np.ndarray, int]:
    """``text`` in ``voice`` at ``rate`` x normal speed -> (``[S]`` float32, sample rate)."""
    if voice not in VOICES:
        raise SourceUnavailable(f"RHVoice has no English voice {voice!r}")
    return setup().speak(voice, text, rate)
