"""The FST normaliser library at the core of English normalisation, behind a crash-safe door.

We use the WeTextProcessing runtime (``wetext`` on PyPI: prebuilt English FSTs read by
``kaldifst``, no pynini). ``LibraryNormalizer.read(text)`` returns what the library says, with the
spans it rewrote, or raises ``LibraryFailure`` when the library is missing, raises, returns
nothing for a non-empty text, or runs past its time limit.

By default wetext runs in a child process of its own (it imports wetext only, and answers one
JSON line per text): a call past ``timeout_s`` kills it wherever it hangs (kaldifst keeps the GIL,
so a thread could not be cut off) and the next call starts a new one, about 0.7 s. After
``max_timeouts`` timeouts in a row the library is switched off for the process. ``isolation="thread"``
keeps it in this process instead. The caller reads a failed text with our own rules (see
``palette.tts.text``).
"""

from __future__ import annotations

import atexit
import difflib
import importlib.util
import json
import queue
import re
import subprocess
import sys
import threading
import warnings
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


class LibraryRaised(RuntimeError):
    """The library raised on a text (its worker is fine)."""


class _ThreadBackend:
    """The library in this process, called on one daemon thread. A hang in Python code is cut
    off; one inside the library's C++ (which keeps the GIL) only when the call returns."""

    def __init__(self, factory):
        self.factory = factory
        self.requests: queue.Queue = queue.Queue()
        self.normalizer = None
        threading.Thread(target=self._loop, name="palette-text-library", daemon=True).start()

    def _loop(self) -> None:
        while True:
            fn, arg, box, done = self.requests.get()
            try:
                box.append((True, fn(arg)))
            except BaseException as e:  # noqa: BLE001 - handed back to the caller
                box.append((False, e))
            done.set()

    def _call(self, fn, arg, timeout_s: float):
        box: list = []
        done = threading.Event()
        self.requests.put((fn, arg, box, done))
        if not done.wait(timeout_s):
            raise TimeoutError(f"no answer within {timeout_s:g} s")
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def start(self, timeout_s: float) -> None:
        self.normalizer = self._call(lambda _: self.factory(), None, timeout_s)

    def normalize(self, text: str, timeout_s: float) -> str:
        return self._call(self.normalizer.normalize, text, timeout_s)

    def close(self) -> None:  # a stuck thread cannot be stopped; it is a daemon
        pass


# the library's side of _ProcessBackend: one JSON text per line in, one JSON answer per line out
_CHILD = """
import json, sys
from wetext import Normalizer
normalizer = Normalizer(lang="en", operator="tn")
normalizer.normalize("1")
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    try:
        answer = {"text": normalizer.normalize(json.loads(line))}
    except Exception as e:
        answer = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)
"""


class _ProcessBackend:
    """The library in a child process (imports wetext only) that reads texts on its standard
    input: a call past its time limit kills the child, wherever it hangs; the next call starts
    a new one."""

    child = _CHILD  # the child's program (tests swap it)

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.answers: queue.Queue = queue.Queue()

    def start(self, timeout_s: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.child],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        answers, stdout = self.answers, self.proc.stdout

        def pump():  # a thread per child: blocking reads, handed over through a queue
            try:
                for line in stdout:
                    answers.put(line)
            except (OSError, ValueError):  # closed by close() while reading
                pass
            answers.put(None)

        threading.Thread(target=pump, name="palette-text-library", daemon=True).start()
        atexit.register(self.close)
        self._answer(timeout_s)

    def _answer(self, timeout_s: float) -> dict:
        try:
            line = self.answers.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"no answer within {timeout_s:g} s") from None
        if line is None:
            raise RuntimeError("the library's process ended")
        return json.loads(line)

    def normalize(self, text: str, timeout_s: float) -> str:
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        answer = self._answer(timeout_s)
        if "error" in answer:
            raise LibraryRaised(answer["error"])
        return answer["text"]

    def close(self) -> None:
        """Stop the child and close its pipes (no unclosed-file warnings at exit)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except (OSError, ValueError):  # a write interrupted by the kill, or closed already
                pass


class LibraryNormalizer:
    """``read(text) -> LibraryReading``; raises ``LibraryFailure`` (see module doc)."""

    def __init__(
        self,
        timeout_s: float = 1.0,
        load_timeout_s: float = 30.0,
        max_timeouts: int = 3,
        factory=None,
        isolation: str = "process",
    ):
        """``isolation``: "process" runs wetext in a child process (a hang anywhere is cut
        off), "thread" in this one (no second process; a hang inside its C++ is cut off only
        when it returns). ``factory``: makes an object with ``normalize(text) -> str`` to use
        instead of wetext, on a thread (tests pass their own)."""
        if isolation not in ("process", "thread"):
            raise ValueError(f"isolation must be 'process' or 'thread', not {isolation!r}")
        self.factory = factory
        self.isolation = "thread" if factory is not None else isolation
        self.timeout_s = timeout_s
        self.load_timeout_s = load_timeout_s
        self.max_timeouts = max_timeouts
        self._backend = None
        self._timeouts = 0
        self._lock = threading.Lock()
        self.disabled_reason: str | None = None

    @staticmethod
    def installed() -> bool:
        return importlib.util.find_spec("wetext") is not None

    def _wetext(self):
        from wetext import Normalizer

        normalizer = Normalizer(lang="en", operator="tn")
        normalizer.normalize("1")  # reads the FSTs
        return normalizer

    def _start(self) -> None:
        if self.factory is None and not self.installed():
            self.disabled_reason = "wetext is not installed"
            raise LibraryFailure(self.disabled_reason, permanent=True)
        if self.isolation == "process":
            backend = _ProcessBackend()
            try:
                backend.start(self.load_timeout_s)
                self._backend = backend
                return
            except (OSError, RuntimeError, ValueError) as e:  # no child (frozen app, ...)
                backend.close()
                warnings.warn(
                    f"could not run the normaliser library in a process of its own ({e}); "
                    "running it in this one",
                    stacklevel=5,
                )
                self.isolation = "thread"
        backend = _ThreadBackend(self.factory or self._wetext)
        try:
            backend.start(self.load_timeout_s)
        except Exception:
            backend.close()
            raise
        self._backend = backend

    def _normalize(self, text: str) -> str:
        if self._backend is None:
            self._start()
        try:
            output = self._backend.normalize(text, self.timeout_s)
            self._timeouts = 0  # max_timeouts counts timeouts in a row
            return output
        except LibraryRaised:
            raise
        except Exception as e:
            stuck = isinstance(e, TimeoutError)
            if stuck:
                self._timeouts += 1
                if self._timeouts >= self.max_timeouts:
                    self.disabled_reason = f"it timed out {self._timeouts} times"
            if stuck or self.isolation == "process":  # a stuck or dead worker is replaced
                self._backend.close()
                self._backend = None
            raise

    def read(self, text: str) -> LibraryReading:
        with self._lock:
            if self.disabled_reason:
                raise LibraryFailure(
                    f"the normaliser library is off: {self.disabled_reason}", permanent=True
                )
            try:
                output = self._normalize(text)
            except LibraryFailure:
                raise
            except Exception as e:  # noqa: BLE001 - any failure of the library is a fallback
                message = f"{type(e).__name__}: {e}".rstrip(": ")
                raise LibraryFailure(message, permanent=bool(self.disabled_reason)) from e
            if text.strip() and not output.strip():
                raise LibraryFailure("it returned nothing")
            return LibraryReading(output, tuple(align(text, output)))

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


_DEFAULT: LibraryNormalizer | None = None


def default_library() -> LibraryNormalizer:
    """The process-wide library normaliser (loaded on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = LibraryNormalizer()
    return _DEFAULT
