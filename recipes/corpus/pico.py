"""English speech from SVOX Pico (``libttspico0`` + ``libttspico-data`` from Debian non-free),
through the library's C API with ctypes: ``pico2wave`` reads its lingware from a path compiled
into it (``/usr/share/pico/lang``), the library takes any path.

Two English voices, both female (and four foreign ones, see ``VOICES``): ``en-US`` (``en-US_ta.bin`` + ``en-US_lh0_sg.bin``) and
``en-GB`` (``en-GB_ta.bin`` + ``en-GB_kh0_sg.bin``); 16 kHz output. The library is Apache-2.0;
the lingware is distributed by Debian as "claims to be Apache-2.0, redistributable, no source".

The C API used (``picoapi.h``; every call returns a status, 0 = OK)::

    pico_initialize(void *memory, pico_Uint32 size, pico_System *out);
    pico_loadResource(pico_System, const pico_Char *file, pico_Resource *out);
    pico_getResourceName(pico_System, pico_Resource, char name[200]);
    pico_createVoiceDefinition(pico_System, const pico_Char *voice);
    pico_addResourceToVoiceDefinition(pico_System, const pico_Char *voice, const pico_Char *res);
    pico_newEngine(pico_System, const pico_Char *voice, pico_Engine *out);
    pico_putTextUtf8(pico_Engine, const pico_Char *text, pico_Int16 size, pico_Int16 *put);
    pico_getData(pico_Engine, void *buf, pico_Int16 size, pico_Int16 *got, pico_Int16 *type);
                                     /* 201 = busy (more to come), 200 = idle (done) */
    pico_disposeEngine / pico_releaseVoiceDefinition / pico_unloadResource / pico_terminate
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from palette.recipes.corpus import debian
from palette.recipes.corpus.debian import SourceUnavailable

SAMPLE_RATE = 16000
LICENCE = "Apache-2.0 (library); lingware redistributable, no source (Debian non-free)"
# voice -> (gender, speaker file tag); the German, French, Spanish and Italian voices read
# English text with their own language's rules (kept only if the screening understands them)
VOICES = {
    "en-US": ("F", "lh0"),
    "en-GB": ("F", "kh0"),
    "de-DE": ("F", "gl0"),
    "fr-FR": ("F", "nk0"),
    "es-ES": ("F", "zl0"),
    "it-IT": ("F", "cm0"),
}
PACKAGES = ["libttspico0", "libttspico-data"]
_MEMORY = 2_500_000
_STEP_BUSY = 201


@functools.cache
def setup():
    root = debian.fetch(PACKAGES)
    if not (root / "usr/share/pico/lang").is_dir():
        raise SourceUnavailable(f"pico lingware missing under {root}")
    return root, debian.load_library(root, "libttspico.so*")


def available() -> None:
    setup()


def _check(status: int, what: str) -> None:
    if status != 0:
        raise RuntimeError(f"pico: {what} failed (status {status})")


def synthesize(voice: str, text: str, rate: float = 1.0) -> tuple[np.ndarray, int]:
    """``text`` in ``voice`` (``en-US`` or ``en-GB``) at ``rate`` x normal speed ->
    (``[S]`` float32, 16000)."""
    root, lib = setup()
    lang = root / "usr/share/pico/lang"
    files = [lang / f"{voice}_ta.bin", lang / f"{voice}_{VOICES[voice][1]}_sg.bin"]
    memory = ctypes.create_string_buffer(_MEMORY)
    system = ctypes.c_void_p()
    _check(lib.pico_initialize(memory, _MEMORY, ctypes.byref(system)), "initialize")
    resources, engine, name = [], ctypes.c_void_p(), b"palette"
    try:
        _check(lib.pico_createVoiceDefinition(system, name), "voice definition")
        for path in files:
            resource = ctypes.c_void_p()
            _check(
                lib.pico_loadResource(system, str(path).encode(), ctypes.byref(resource)),
                f"loading {path.name}",
            )
            resources.append(resource)
            res_name = ctypes.create_string_buffer(200)
            _check(lib.pico_getResourceName(system, resource, res_name), "resource name")
            _check(lib.pico_addResourceToVoiceDefinition(system, name, res_name.value), "add")
        _check(lib.pico_newEngine(system, name, ctypes.byref(engine)), "new engine")
        markup = f'<speed level="{round(100 * rate)}">{text}</speed>'.encode() + b"\0"
        chunks, buffer = [], ctypes.create_string_buffer(4096)
        got, kind, put = ctypes.c_int16(), ctypes.c_int16(), ctypes.c_int16()
        offset = 0
        while offset < len(markup):
            piece = markup[offset : offset + 2000]
            _check(lib.pico_putTextUtf8(engine, piece, len(piece), ctypes.byref(put)), "text")
            offset += put.value
            while True:
                status = lib.pico_getData(
                    engine, buffer, 4096, ctypes.byref(got), ctypes.byref(kind)
                )
                if got.value > 0:
                    chunks.append(np.frombuffer(buffer.raw[: got.value], dtype=np.int16).copy())
                if status != _STEP_BUSY:
                    break
    finally:
        if engine.value:
            lib.pico_disposeEngine(system, ctypes.byref(engine))
        lib.pico_releaseVoiceDefinition(system, name)
        for resource in reversed(resources):
            lib.pico_unloadResource(system, ctypes.byref(resource))
        lib.pico_terminate(ctypes.byref(system))
    if not chunks:
        raise RuntimeError(f"pico produced no audio for {text!r}")
    return np.concatenate(chunks).astype(np.float32) / 32768.0, SAMPLE_RATE
