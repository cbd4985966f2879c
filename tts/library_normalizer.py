"""The FST normaliser library at the core of English normalisation, behind a crash-safe door.

We use the WeTextProcessing runtime (``wetext`` on PyPI: prebuilt English FSTs read by
``kaldifst``, no pynini). ``LibraryNormalizer.read(text)`` returns what the library says, with the
spans it rewrote, or raises ``LibraryFailure`` when the library is missing, raises, returns
nothing for a non-empty text, or runs past its time limit. Calls run on a worker thread, so that a
hang is cut off after ``timeout_s``; a worker that timed out is abandoned (it cannot be killed) and
after ``max_timeouts`` of them the library is switched off for the process. The caller reads the
text with our own rules instead (see ``palette.tts.text``).
"""

from __future__ import annotations

import difflib
import queue
import re
import threading
from dataclasses import dataclass


class LibraryFailure(RuntimeError):
    """The library could not read a text (not installed, raised, timed out, returned nothing).
    ``permanent``: it is off for the rest of the process (not installed, too many timeouts)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class LibrarySpan:
    start: int  # offsets into the input
    end: int
    spoken: str  # what the library read there
    cls: str  # the library's token type: cardinal, money, measure, ...


@dataclass(frozen=True)
class LibraryReading:
    text: str  # the whole output
    spans: tuple[LibrarySpan, ...]  # rewritten spans, in order; the rest is kept as written


# a word with its inner dots, commas and colons ("3.50", "1,234", "a@b.com"); else one character
_TOKEN = re.compile(r"[^\s.,;:!?\"()\[\]]+(?:[.,:][^\s.,;:!?\"()\[\]]+)*|\S")


def align(written: str, spoken: str) -> list[LibrarySpan]:
    """The spans the library rewrote, found by aligning input and output word by word
    (``normalize_with_mapping`` of the library gives them too, but reads worse and 5-10x
    slower)."""
    ins = [(m.start(), m.end(), m[0]) for m in _TOKEN.finditer(written)]
    outs = _TOKEN.findall(spoken)
    matcher = difflib.SequenceMatcher(None, [w for _, _, w in ins], outs, autojunk=False)
    spans = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if i1 == i2:  # words added next to kept ones: attach them to the word before (after)
            if i1:
                start, end, word = ins[i1 - 1]
                said = [word] + outs[j1:j2]
            else:
                start, end, word = ins[0]
                said = outs[j1:j2] + [word]
            spans.append(LibrarySpan(start, end, " ".join(said), ""))
            continue
        spans.append(LibrarySpan(ins[i1][0], ins[i2 - 1][1], " ".join(outs[j1:j2]), ""))
    return spans


class _Worker:
    """One daemon thread that runs calls one at a time."""

    def __init__(self):
        self.requests: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="palette-text-library", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            fn, arg, box, done = self.requests.get()
            try:
                box.append((True, fn(arg)))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                box.append((False, e))
            done.set()

    def call(self, fn, arg, timeout_s: float):
        box: list = []
        done = threading.Event()
        self.requests.put((fn, arg, box, done))
        if not done.wait(timeout_s):
            raise TimeoutError(f"no answer within {timeout_s:g} s")
        ok, value = box[0]
        if not ok:
            raise value
        return value


class LibraryNormalizer:
    """``read(text) -> LibraryReading``; raises ``LibraryFailure`` (see module doc)."""

    def __init__(
        self,
        timeout_s: float = 1.0,
        load_timeout_s: float = 30.0,
        max_timeouts: int = 3,
        factory=None,
    ):
        """``factory``: makes the object whose ``normalize(text) -> str`` is called (default:
        ``wetext.Normalizer`` for English text normalisation); tests pass their own."""
        self.factory = factory
        self.timeout_s = timeout_s
        self.load_timeout_s = load_timeout_s
        self.max_timeouts = max_timeouts
        self._normalizer = None
        self._worker: _Worker | None = None
        self._timeouts = 0
        self._lock = threading.Lock()
        self.disabled_reason: str | None = None

    @staticmethod
    def installed() -> bool:
        try:
            import wetext  # noqa: F401
        except ImportError:
            return False
        return True

    def _load(self) -> None:
        def load(_):
            if self.factory is not None:
                return self.factory()
            from wetext import Normalizer

            normalizer = Normalizer(lang="en", operator="tn")
            normalizer.normalize("1")  # reads the FSTs
            return normalizer

        try:
            self._normalizer = self._call(load, None, self.load_timeout_s)
        except ImportError as e:
            self.disabled_reason = f"wetext is not installed ({e})"
            raise LibraryFailure(self.disabled_reason, permanent=True) from None

    def _call(self, fn, arg, timeout_s: float):
        if self._worker is None:
            self._worker = _Worker()
        try:
            return self._worker.call(fn, arg, timeout_s)
        except TimeoutError:
            self._worker = None  # abandon the stuck thread; the next call gets a new one
            self._timeouts += 1
            if self._timeouts >= self.max_timeouts:
                self.disabled_reason = f"it timed out {self._timeouts} times"
            raise

    def _read_now(self, text: str) -> LibraryReading:
        output = self._normalizer.normalize(text)
        return LibraryReading(output, tuple(align(text, output)))

    def read(self, text: str) -> LibraryReading:
        with self._lock:
            if self.disabled_reason:
                raise LibraryFailure(
                    f"the normaliser library is off: {self.disabled_reason}", permanent=True
                )
            try:
                if self._normalizer is None:
                    self._load()
                reading = self._call(self._read_now, text, self.timeout_s)
            except LibraryFailure:
                raise
            except Exception as e:  # noqa: BLE001 - any failure of the library is a fallback
                message = f"{type(e).__name__}: {e}".rstrip(": ")
                raise LibraryFailure(message, permanent=bool(self.disabled_reason)) from e
            if text.strip() and not reading.text.strip():
                raise LibraryFailure("it returned nothing")
            return reading


_DEFAULT: LibraryNormalizer | None = None


def default_library() -> LibraryNormalizer:
    """The process-wide library normaliser (loaded on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = LibraryNormalizer()
    return _DEFAULT
