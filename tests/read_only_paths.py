"""Makes folders and files really read-only for a test, root included (chmod does not stop root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


class ReadOnly:
    """``chattr +i`` as root, chmod otherwise; :meth:`restore` undoes it (the fixture does)."""

    def __init__(self) -> None:
        self.applied: list[Path] = []

    def _set(self, paths: list[Path], on: bool) -> None:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True, capture_output=True)
        else:
            for path in paths:
                path.chmod((0o555 if path.is_dir() else 0o444) if on else (0o755 if path.is_dir() else 0o644))

    def apply(self, *paths: Path) -> None:
        if os.geteuid() == 0 and shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: nothing can make a folder read-only for root")
        try:
            self._set(list(paths), True)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"this file system does not support chattr +i: {exc.stderr!r}")
        self.applied.extend(paths)
        for path in paths:  # prove it: a write that the test relies on failing must fail
            probe = path / "probe" if path.is_dir() else path
            with pytest.raises(OSError):
                probe.touch() if path.is_dir() else probe.open("ab").close()

    def apply_tree(self, folder: Path) -> None:
        """The folder and everything in it."""
        self.apply(folder, *sorted(folder.rglob("*")))

    def restore(self) -> None:
        if self.applied:
            self._set(self.applied, False)
            self.applied = []


@pytest.fixture
def read_only() -> Iterator[ReadOnly]:
    guard = ReadOnly()
    yield guard
    guard.restore()
