"""The output folder: file writes and the staged commit."""
from __future__ import annotations

import os

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


def test_a_commit_killed_midway_is_rolled_forward_by_the_next_run(tmp_path, monkeypatch):
    """The journal is applied again after a kill: files moved already are
    skipped, the rest (into folders that do not exist yet too) moved, removed
    files deleted with their emptied folders."""
    import site_gen.output as output
    out = tmp_path / "output"
    (out / "2022" / "a").mkdir(parents=True)
    (out / "2022" / "a" / "index.html").write_bytes(b"old a")
    (out / "gone" / "x").mkdir(parents=True)
    (out / "gone" / "x" / "index.html").write_bytes(b"removed")
    staged = output.StagedChanges(out)
    for rel, data in (("2022/a/index.html", b"new a"), ("2023/b/index.html", b"new b"), ("index.html", b"home")):
        output.write_file(staged.files_root / rel, data)
    real, moves = os.replace, []

    def replace_then_die(src, dest):
        if moves:
            raise KeyboardInterrupt  # killed after the first move
        moves.append(dest)
        return real(src, dest)

    monkeypatch.setattr(output.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        staged.commit(["2022/a/index.html", "2023/b/index.html", "index.html"], ["gone/x/index.html"])
    monkeypatch.setattr(output.os, "replace", real)
    assert len(moves) == 1 and (staged.root / "COMMIT.json").is_file()
    output.recover(out)
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == {
        "2022/a/index.html": b"new a", "2023/b/index.html": b"new b", "index.html": b"home"}
    assert not (out / "gone").exists() and not staged.root.exists()


def test_same_bytes_and_same_files_compare_contents_not_times(tmp_path):
    from site_gen.output import same_bytes, same_files
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"x" * (3 << 20) + b"end")
    b.write_bytes(b"x" * (3 << 20) + b"end")
    assert same_files(a, b) and same_bytes(str(a), a.read_bytes())
    b.write_bytes(b"x" * (3 << 20) + b"eNd")  # same size, differs in the last megabyte
    assert not same_files(a, b) and not same_bytes(str(b), a.read_bytes())
    b.write_bytes(b"x" * (3 << 20))  # a prefix
    assert not same_files(a, b) and not same_files(b, a)
    assert not same_files(a, tmp_path / "missing") and not same_bytes(str(tmp_path / "missing"), b"")
    (tmp_path / "link").symlink_to(a)  # a link to the very bytes is still not the file
    assert not same_bytes(str(tmp_path / "link"), a.read_bytes()) and not same_files(a, tmp_path / "link")
    assert not same_files(a, tmp_path)  # nor is a folder


def test_a_fifo_in_the_output_folder_is_never_the_same_and_never_waited_on(tmp_path):
    """Opening a FIFO for reading waits for a writer: the comparison must
    not, or a build over an output folder holding one would hang."""
    from site_gen.output import same_bytes, same_files
    fifo = tmp_path / "index.html"
    os.mkfifo(fifo)
    made = tmp_path / "made"
    made.write_bytes(b"")
    assert not same_bytes(str(fifo), b"") and not same_files(made, fifo)
