"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every output J-GOD writes outside the database (run directories, CSV reports, the JSON Schema,
intraday Parquet days) goes through here. A file is written beside its target under a hidden
temporary name, flushed to disk, and moved over the target with ``os.replace`` (atomic on POSIX
and Windows for a move within one directory). :func:`atomic_files` stages several files and moves
them only when the whole block succeeds, so a crash or a full disk loses nothing that was there.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Iterator


def _temporary_beside(target: Path) -> Path:
    return target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"


def _flush_to_disk(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class StagedFiles:
    """Temporary paths handed out by :func:`atomic_files`, moved into place together."""

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

    def path(self, target: str | os.PathLike[str]) -> Path:
        """Where to write the new content of ``target`` (a temporary file beside it)."""
        final = Path(target)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = self._staged.get(final) or _temporary_beside(final)
        self._staged[final] = temp
        return temp

    def pending(self, target: str | os.PathLike[str]) -> Path | None:
        """The staged (not yet committed) file of ``target``, or None."""
        temp = self._staged.get(Path(target))
        return temp if temp is not None and temp.exists() else None

    def commit(self) -> None:
        """Move every staged file over its target."""
        for final, temp in self._staged.items():
            if temp.exists():
                _flush_to_disk(temp)
                os.replace(temp, final)
        self._staged.clear()

    def abort(self) -> None:
        """Delete every staged file; the targets keep their old content."""
        for temp in self._staged.values():
            temp.unlink(missing_ok=True)
        self._staged.clear()


@contextlib.contextmanager
def atomic_files() -> Iterator[StagedFiles]:
    """Stage files with ``staged.path(target)``; all move into place when the block ends normally,
    none when it raises (the temporaries are removed)."""
    staged = StagedFiles()
    try:
        yield staged
    except BaseException:
        staged.abort()
        raise
    staged.commit()


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``target`` with ``data`` atomically."""
    with atomic_files() as staged:
        staged.path(target).write_bytes(data)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8) atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))
