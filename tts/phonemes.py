"""Phonemes from espeak-ng through ``phonemizer``.

espeak-ng's library and data come from the ``espeakng-loader`` wheel, so no system package is
needed. Output is IPA with stress marks and punctuation kept, split into single-character
tokens (see ``tts.symbols``); words are separated by ``" "``.
"""

from __future__ import annotations

import functools
import logging
import re

from palette.codec.files import UserError

logger = logging.getLogger(__name__)


@functools.cache
def _backend(language: str):
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


def phonemize_text(text: str, language: str = "en-us") -> str:
    """Normalised text -> IPA string, e.g. ``'həlˈoʊ wˈɜːld.'``."""
    if not text.strip():
        return ""
    ipa = _backend(language).phonemize([text], strip=True, njobs=1)[0]
    return re.sub(r"\s+", " ", ipa).strip()


def phonemize(text: str, language: str = "en-us") -> list[str]:
    """Normalised text -> list of single-character IPA tokens (``" "`` between words)."""
    return list(phonemize_text(text, language))
