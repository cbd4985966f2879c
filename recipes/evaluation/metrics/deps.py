"""Lazy imports of the evaluation extra, with one clear error when a package is missing.

The scorers need heavy packages (faster-whisper, resemblyzer, speechmos, jiwer) that only the
``eval`` extra installs; they are imported when a scorer is built, never at module import, so
``palette --help`` and the rest of the toolkit work without them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import types
import warnings
from types import ModuleType

from palette.codec.files import UserError

INSTALL_HINT = "pip install 'palette-tts[eval]'"


class MissingDependencyError(ImportError, UserError):
    """A package of the ``eval`` extra is not installed (a ValueError too, so the command line
    prints its message instead of a traceback)."""


def require(module: str, package: str | None = None, purpose: str = "evaluation") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the pip package."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if isinstance(err, MissingDependencyError):
            raise
        raise MissingDependencyError(
            f"{purpose} needs the '{package or module}' package ({err}); "
            f"install the evaluation extra: {INSTALL_HINT}"
        ) from err


def import_resemblyzer() -> ModuleType:
    """Import ``resemblyzer``.

    Its dependency ``webrtcvad`` (2.0.10, the version resemblyzer pins) runs
    ``import pkg_resources`` at import time only to read its own version, and setuptools >= 81
    no longer ships ``pkg_resources``. When it is missing, a stand-in that answers that one
    question is put in place for the duration of the import and removed afterwards.
    """
    if "resemblyzer" in sys.modules:
        return sys.modules["resemblyzer"]
    try:
        importlib.import_module("pkg_resources")
        stub = None
    except ImportError:
        stub = types.ModuleType("pkg_resources")
        stub.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
            version=importlib.metadata.version(name)
        )
        sys.modules["pkg_resources"] = stub
    try:
        with warnings.catch_warnings():  # it imports scipy.ndimage.morphology (deprecated)
            warnings.simplefilter("ignore", DeprecationWarning)
            return require("resemblyzer", "resemblyzer", "speaker similarity")
    finally:
        if stub is not None and sys.modules.get("pkg_resources") is stub:
            del sys.modules["pkg_resources"]
