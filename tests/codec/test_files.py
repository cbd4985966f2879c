"""One atomic write for every file palette-tts makes, and the one user-error report."""

import os
import stat

import pytest

from palette.codec.files import (
    UserError,
    atomic_path,
    atomic_write,
    run_reporting_user_errors,
    write_text_atomic,
)


def test_written_files_get_0644_and_no_temporary_is_left(tmp_path):
    path = write_text_atomic(tmp_path / "a.txt", "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = write_text_atomic(tmp_path / "a.txt", "old")

    def fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_the_temporary_keeps_the_suffixes_and_is_unique(tmp_path):
    with atomic_path(tmp_path / "cuts.jsonl.gz") as a, atomic_path(tmp_path / "cuts.jsonl.gz") as b:
        assert a.name.endswith(".jsonl.gz") and b.name.endswith(".jsonl.gz") and a != b
        a.write_text("a")
        b.write_text("b")
    assert (tmp_path / "cuts.jsonl.gz").read_text() == "a"  # the writer that finished last


def test_a_symlink_is_written_through(tmp_path):
    real = write_text_atomic(tmp_path / "real.txt", "old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_device_is_written_to_directly():
    with atomic_path("/dev/null") as path:
        assert str(path) == "/dev/null"
        path.write_text("discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_user_errors_are_one_line_and_exit_2(capsys):
    def bad():
        raise UserError("the text is empty")

    assert run_reporting_user_errors("palette x", bad) == 2
    assert capsys.readouterr().err == "palette x: error: the text is empty\n"
    assert run_reporting_user_errors("palette x", bad, verbose=True) == 2
    assert "Traceback" in capsys.readouterr().err
    assert run_reporting_user_errors("palette x", lambda: 3) == 3
    with pytest.raises(KeyError):  # anything else is a bug and keeps its traceback
        run_reporting_user_errors("palette x", lambda: {}["k"])
