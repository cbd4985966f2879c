"""The private apt configuration reads the machine's Debian archives (never writes /etc/apt)."""

import fcntl

import pytest

from palette.recipes.corpus import debian


def test_archives_are_read_from_deb822_and_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\n"
        "Types: deb\nURIs: http://other.invalid/node\nSuites: nodistro\nComponents: main\n\n"
        "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://mirror.invalid/debian-security bookworm-security main\n"
    )
    assert debian.system_sources(tmp_path) == [
        ("deb", "http://mirror.invalid/debian", "bookworm"),
        ("deb", "http://mirror.invalid/debian", "bookworm-updates"),
        ("deb", "http://mirror.invalid/debian-security", "bookworm-security"),
    ]


def test_cached_needs_every_package(tmp_path):
    (tmp_path / "unpacked").mkdir()
    (tmp_path / "unpacked/mbrola").write_text("mbrola_3.3.deb\n")
    assert debian.cached(["mbrola"], tmp_path)
    assert not debian.cached(["mbrola", "mbrola-us1"], tmp_path)


def test_library_path_has_the_private_library_folders(tmp_path):
    """libpulse's own run path names /usr/lib/x86_64-linux-gnu/pulseaudio, absent on a machine
    without it: the cache's copy of that folder must be on the path (espeak-ng needs it)."""
    multiarch = tmp_path / "usr/lib/x86_64-linux-gnu"
    (multiarch / "pulseaudio").mkdir(parents=True)
    (multiarch / "pulseaudio/libpulsecommon-16.1.so").write_bytes(b"")
    (multiarch / "espeak-ng-data").mkdir()  # no libraries: not on the path
    folders = debian.library_path(tmp_path).split(":")
    assert folders[:2] == [str(multiarch), str(multiarch / "pulseaudio")]
    assert str(multiarch / "espeak-ng-data") not in folders


def test_fetches_are_serialised_by_a_lock(tmp_path):
    with debian._locked(tmp_path):
        with open(tmp_path / "fetch.lock") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(tmp_path / "fetch.lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the block
