import os
import stat

import pytest

from chordcli.atomic import atomic_path, check_output_path, write_bytes_atomic, write_text_atomic
from chordcli.errors import ChordcliError, OutputError, OutputExistsError


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_write_text_creates_file(tmp_path):
    out = tmp_path / "a.lab"
    assert write_text_atomic(out, "x\ny\n") == out
    assert out.read_bytes() == b"x\ny\n"  # no newline translation
    assert _leftovers(tmp_path) == []


def test_write_bytes_creates_file(tmp_path):
    out = tmp_path / "a.mid"
    write_bytes_atomic(out, b"\x00\x01")
    assert out.read_bytes() == b"\x00\x01"


def test_existing_file_is_kept_without_overwrite(tmp_path):
    out = tmp_path / "a.lab"
    out.write_text("old")
    with pytest.raises(OutputExistsError) as info:
        write_text_atomic(out, "new")
    assert str(out) in str(info.value)
    assert "--overwrite" in str(info.value)
    assert out.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_overwrite_replaces_and_keeps_permissions(tmp_path):
    out = tmp_path / "a.lab"
    out.write_text("old")
    os.chmod(out, 0o640)
    write_text_atomic(out, "new", overwrite=True)
    assert out.read_text() == "new"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_new_file_gets_umask_permissions_not_private_temp_ones(tmp_path):
    out = tmp_path / "a.lab"
    write_text_atomic(out, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_missing_parent_directory_is_an_error(tmp_path):
    out = tmp_path / "nope" / "a.lab"
    with pytest.raises(OutputError, match="does not exist") as info:
        write_text_atomic(out, "x")
    assert str(out) in str(info.value)
    assert not (tmp_path / "nope").exists()


def test_parent_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        write_text_atomic(tmp_path / "f" / "a.lab", "x")


def test_directory_as_output_is_an_error(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        write_text_atomic(tmp_path, "x", overwrite=True)


def test_failure_inside_block_leaves_destination_and_no_temp(tmp_path):
    out = tmp_path / "a.png"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out, overwrite=True) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".png"  # writers that choose a format by suffix still work
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert out.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_destination_created_during_block_is_not_replaced(tmp_path):
    out = tmp_path / "a.lab"
    with pytest.raises(OutputExistsError), atomic_path(out) as tmp:
        tmp.write_text("mine")
        out.write_text("someone else's")
    assert out.read_text() == "someone else's"
    assert _leftovers(tmp_path) == []


def test_check_output_path(tmp_path):
    assert check_output_path(str(tmp_path / "a.lab")) == tmp_path / "a.lab"
    (tmp_path / "a.lab").write_text("")
    with pytest.raises(OutputExistsError):
        check_output_path(tmp_path / "a.lab")
    assert check_output_path(tmp_path / "a.lab", overwrite=True) == tmp_path / "a.lab"


def test_errors_are_one_line_chordcli_errors(tmp_path):
    with pytest.raises(ChordcliError) as info:
        write_text_atomic(tmp_path / "missing" / "a.lab", "x")
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith("(hint: create it first)")
    assert info.value.hint == "create it first"
