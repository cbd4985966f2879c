"""Debian packages unpacked into a private cache, without touching the machine's apt setup.

Some voices only exist as Debian packages in ``contrib``/``non-free`` (MBROLA voices, SVOX
Pico, RHVoice) or need a Debian binary (flite, espeak-ng for MBROLA). This module fetches them
with a private apt configuration that lives in the cache folder:

- the archive addresses and suites are read from the machine's own apt sources (deb822
  ``*.sources`` files or one-line ``sources.list``), and ``contrib non-free`` are added to the
  components; no file under ``/etc/apt`` is written, and nothing is installed;
- ``apt-get update`` fills the cache's own package lists (once a day at most);
- ``apt-get install --simulate`` names the packages (with their dependencies) missing on this
  machine; ``apt-get download`` fetches them into ``<cache>/debs`` and ``dpkg-deb -x`` unpacks
  them into ``<cache>/root``, which then looks like a small ``/`` (``usr/bin``, ``usr/lib``,
  ``usr/share``).

A machine without apt (or without network) gets :class:`SourceUnavailable` with the reason; the
corpus builder skips that source with a message.

The cache defaults to ``~/.cache/palette-tts/debian`` (``PALETTE_DEBIAN_CACHE`` overrides it).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

logger = logging.getLogger(__name__)

COMPONENTS = "main contrib non-free"
_LIST_MAX_AGE_S = 24 * 3600.0


class SourceUnavailable(RuntimeError):
    """A voice source cannot be had on this machine (the message says why)."""


def cache_dir() -> Path:
    return Path(os.environ.get("PALETTE_DEBIAN_CACHE") or Path.home() / ".cache/palette-tts/debian")


def system_sources(etc: Path = Path("/etc/apt")) -> list[tuple[str, str, str]]:
    """``(types, uri, suite)`` of every Debian archive the machine's apt reads.

    deb822 (``/etc/apt/sources.list.d/*.sources``)::

        Types: deb
        URIs: <address>/debian
        Suites: bookworm bookworm-updates
        Components: main

    one-line (``/etc/apt/sources.list``)::

        deb <address>/debian bookworm main
    """
    found = []
    folder = Path(etc) / "sources.list.d"
    for path in sorted(folder.glob("*.sources")) if folder.is_dir() else []:
        for stanza in path.read_text(errors="replace").split("\n\n"):
            fields = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (ln.partition(":") for ln in stanza.splitlines())
                if v and not k.startswith("#")
            )
            if "debian" not in fields.get("uris", "") or fields.get("enabled") == "no":
                continue
            for uri in fields["uris"].split():
                for suite in fields.get("suites", "").split():
                    found.append((fields.get("types", "deb").split()[0], uri, suite))
    legacy = Path(etc) / "sources.list"
    if legacy.is_file():
        for line in legacy.read_text(errors="replace").splitlines():
            match = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line.strip())
            if match and "debian" in match[1]:
                found.append(("deb", match[1], match[2]))
    return list(dict.fromkeys(t for t in found if t[0] == "deb"))


def _apt_env(root: Path) -> dict[str, str]:
    """Environment whose ``APT_CONFIG`` points at the cache's own configuration."""
    apt = root / "apt"
    for sub in (
        "lists/partial",
        "cache/archives/partial",
        "etc/sources.list.d",
        "etc/apt.conf.d",
        "etc/preferences.d",
    ):
        (apt / sub).mkdir(parents=True, exist_ok=True)
    sources = system_sources()
    if not sources:
        raise SourceUnavailable("no Debian archive in this machine's apt sources")
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    signed = f"Signed-By: {keyring}\n" if Path(keyring).is_file() else ""
    text = "".join(
        f"Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: {COMPONENTS}\n{signed}\n"
        for _, uri, suite in sources
    )
    (apt / "etc/sources.list.d/palette.sources").write_text(text)
    conf = apt / "apt.conf"
    conf.write_text(
        f'Dir::State::Lists "{apt}/lists";\n'
        f'Dir::Cache "{apt}/cache";\n'
        f'Dir::Etc::SourceList "/dev/null";\n'
        f'Dir::Etc::SourceParts "{apt}/etc/sources.list.d";\n'
        f'Dir::Etc::Parts "{apt}/etc/apt.conf.d";\n'
        f'Dir::Etc::PreferencesParts "{apt}/etc/preferences.d";\n'
        'APT::Sandbox::User "root";\n'
    )
    return {**os.environ, "APT_CONFIG": str(conf), "DEBIAN_FRONTEND": "noninteractive"}


def _run(cmd: list[str], env: dict, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SourceUnavailable(f"{cmd[0]} failed: {err}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SourceUnavailable(f"{' '.join(cmd[:2])} failed: {' / '.join(tail)}")
    return done.stdout


def _update(env: dict, root: Path) -> None:
    stamp = root / "apt/updated"
    if stamp.is_file() and time.time() - stamp.stat().st_mtime < _LIST_MAX_AGE_S:
        return
    _run(["apt-get", "update", "-q"], env)
    stamp.touch()


def _unpacked_marker(root: Path, package: str) -> Path:
    return root / "unpacked" / package


def fetch(
    packages: list[str] | tuple[str, ...], root: Path | None = None, dependencies: bool = True
) -> Path:
    """Unpack ``packages`` (and, unless ``dependencies`` is false, their dependencies missing
    on this machine) under ``<cache>/root`` and return that folder; packages already unpacked
    are not fetched again.

    Raises :class:`SourceUnavailable` when apt or dpkg-deb is missing, the archive cannot be
    reached, or a package does not exist there.
    """
    root = Path(root or cache_dir())
    unpacked = root / "root"
    if cached(packages, root):
        return unpacked
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise SourceUnavailable(f"{tool} not found (not a Debian-based machine)")
    with _locked(root):  # render processes fetch their sources at once: one at a time
        wanted = [p for p in packages if not _unpacked_marker(root, p).is_file()]
        if wanted:
            _fetch(wanted, root, unpacked, dependencies)
    return unpacked


@contextlib.contextmanager
def _locked(root: Path):
    """Hold ``<root>/fetch.lock`` (an exclusive ``flock``) for the block."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "fetch.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch(wanted: list[str], root: Path, unpacked: Path, dependencies: bool) -> None:
    env = _apt_env(root)
    _update(env, root)
    names = []
    if dependencies:
        plan = _run(["apt-get", "install", "--simulate", "-q", *wanted], env)
        names = re.findall(r"^Inst (\S+)", plan, re.M)
    names = list(dict.fromkeys(names + wanted))  # installed on the machine: still unpack ours
    debs = root / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [n for n in names if not list(debs.glob(f"{n}_*.deb"))]
    if missing:
        _run(["apt-get", "download", "-q", *missing], env, cwd=debs)
    for name in names:
        marker = _unpacked_marker(root, name)
        if marker.is_file():
            continue
        deb = sorted(debs.glob(f"{name}_*.deb"))
        if not deb:
            raise SourceUnavailable(f"package {name} was not downloaded")
        _run(["dpkg-deb", "-x", str(deb[-1]), str(unpacked)], env)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(deb[-1].name + "\n")
    logger.info("debian cache: %s unpacked in %s", " ".join(wanted), unpacked)


@functools.cache
def library_path(root: Path) -> str:
    """``LD_LIBRARY_PATH`` value with the cache's library folders first (and their private
    subfolders such as ``pulseaudio/``, which the libraries' own run paths name under ``/``)."""
    multiarch = root / "usr/lib/x86_64-linux-gnu"
    private = sorted(d for d in multiarch.glob("*/") if d.is_dir() and any(d.glob("lib*.so*")))
    folders = [
        str(p)
        for p in (multiarch, *private, root / "usr/lib", root / "lib/x86_64-linux-gnu")
        if p.is_dir()
    ]
    old = os.environ.get("LD_LIBRARY_PATH")
    return ":".join(folders + ([old] if old else []))


def tool_env(root: Path) -> dict[str, str]:
    """Environment for running the cache's binaries (its ``usr/bin`` first on ``PATH``)."""
    return {
        **os.environ,
        "PATH": f"{root / 'usr/bin'}:{os.environ.get('PATH', '')}",
        "LD_LIBRARY_PATH": library_path(root),
    }


def load_library(root: Path, pattern: str, _depth: int = 0):
    """``ctypes.CDLL`` of the cache's library matching ``pattern`` (e.g. ``libttspico.so*``),
    loading first (globally) any library it needs that the cache has and the machine lacks:
    the dynamic loader reads ``LD_LIBRARY_PATH`` only when the process starts."""
    import ctypes

    folder = root / "usr/lib/x86_64-linux-gnu"
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if not found:
        raise SourceUnavailable(f"{pattern} is not in the cache {folder}")
    while True:
        try:
            return ctypes.CDLL(str(found[0]), mode=ctypes.RTLD_GLOBAL)
        except OSError as err:
            match = re.match(r"^(\S+\.so[.\d]*): cannot open", str(err))
            if not match or _depth > 8 or not (folder / match[1]).exists():
                raise SourceUnavailable(f"cannot load {found[0].name}: {err}") from None
            load_library(root, match[1], _depth + 1)


def cached(packages: list[str] | tuple[str, ...], root: Path | None = None) -> bool:
    """Whether every one of ``packages`` is unpacked in the cache already (no network)."""
    root = Path(root or cache_dir())
    return all(_unpacked_marker(root, p).is_file() for p in packages)
