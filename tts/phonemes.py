"""Phonemes from espeak-ng through ``phonemizer``.

espeak-ng's library and data come from the ``espeakng-loader`` wheel, so no system package is
needed. Output is IPA with stress marks and punctuation kept, split into single-character
tokens (see ``tts.symbols``); words are separated by ``" "``.

Thread safety: espeak-ng keeps its state in library globals, so concurrent calls into one
backend return each other's phonemes (or bytes cut mid-character). Every call into espeak-ng,
and the creation of backends, goes through one process-wide lock. One backend per thread works
too (phonemizer loads a private copy of the library per backend), but measured with 8 threads
on 2 cores it was slower (0.20 s vs 0.13 s for 320 calls, 0.10 s sequential) and leaves one
library copy per thread; phonemizing is a small fraction of synthesis time, so the lock wins.
"""

from __future__ import annotations

import logging
import re
import threading

from palette.codec.files import UserError

logger = logging.getLogger(__name__)

_LOCK = threading.RLock()  # guards espeak-ng: its state is process-wide
_BACKENDS: dict[str, object] = {}  # language -> EspeakBackend (created under _LOCK)


def _create_backend(language: str):
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    if language not in EspeakBackend.supported_languages():
        raise UserError(
            f"espeak-ng has no language {language!r}; try one of en-us, en-gb, fr-fr, de"
        )
    # phonemizer logs a warning per call about language switches; keep them out of the way
    quiet = logging.getLogger("phonemizer")
    quiet.setLevel(logging.ERROR)
    return EspeakBackend(
        language,
        preserve_punctuation=True,
        with_stress=True,
        language_switch="remove-flags",
        logger=quiet,
    )


def _backend(language: str):
    """The espeak-ng backend for ``language``, created once (under the lock)."""
    with _LOCK:
        if language not in _BACKENDS:
            _BACKENDS[language] = _create_backend(language)
        return _BACKENDS[language]


def phonemize_text(text: str, language: str = "en-us") -> str:
    """Normalised text -> IPA string, e.g. ``'həlˈoʊ wˈɜːld.'``. Safe to call from threads."""
    if not text.strip():
        return ""
    with _LOCK:
        ipa = _backend(language).phonemize([text], strip=True, njobs=1)[0]
    return re.sub(r"\s+", " ", ipa).strip()


def phonemize(text: str, language: str = "en-us") -> list[str]:
    """Normalised text -> list of single-character IPA tokens (``" "`` between words)."""
    return list(phonemize_text(text, language))
