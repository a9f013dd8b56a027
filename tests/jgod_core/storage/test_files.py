"""Atomic writes: the old content survives a failed block; a good block replaces every file at once."""

from __future__ import annotations

import pytest

from jgod_core.storage.files import atomic_files, atomic_write_text


def test_a_failed_block_keeps_every_old_file_and_leaves_no_temporary(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.json"
    first.write_text("old a")
    second.write_text("old b")
    with pytest.raises(OSError, match="disk full"), atomic_files() as staged:
        staged.path(first).write_text("new a")
        staged.path(second).write_text("new b")
        raise OSError("disk full")
    assert (first.read_text(), second.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"]


def test_a_good_block_replaces_all_files_and_creates_parents(tmp_path):
    target = tmp_path / "deep" / "dir" / "out.txt"
    with atomic_files() as staged:
        staged.path(target).write_text("one")
        assert not target.exists()  # nothing visible before the block ends
        assert staged.pending(target) is not None
    assert target.read_text() == "one"
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]
