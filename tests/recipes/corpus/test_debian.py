"""The private apt configuration reads the machine's Debian archives (never writes /etc/apt)."""

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
