"""The output folder's file writes."""
from __future__ import annotations

import pytest

from site_gen.output import write_file


def test_write_file_makes_missing_folders_and_replaces_contents(tmp_path):
    target = tmp_path / "2022" / "a" / "index.html"
    write_file(target, b"one")
    assert target.read_bytes() == b"one"
    write_file(str(target), b"two, longer")  # a folder that exists, given as text
    assert target.read_bytes() == b"two, longer"
    write_file(tmp_path / "2022" / "a" / "report.json", b"{}")
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.html", "report.json"]


def test_write_file_never_writes_through_a_file_or_into_a_folder(tmp_path):
    (tmp_path / "taken").write_bytes(b"a file")
    with pytest.raises(OSError):
        write_file(tmp_path / "taken" / "index.html", b"x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(OSError):
        write_file(tmp_path / "folder", b"x")
    assert (tmp_path / "taken").read_bytes() == b"a file"
