"""Which files an ingestion sees, and the checks made on one before anything opens it.

Folders are walked without following links to folders (no loops). Every entry with a suffix the
library reads (``.pdf``, ``.docx``, ``.md``, ``.html``, ... see :mod:`.formats`) is kept, special
files too (named pipes, sockets, devices), and so is every folder that cannot be read (permission denied, a path longer than the system allows): each is reported as that file's
failure when the ingestion reaches it, and the rest of the batch goes on. A special file is never
opened: opening a named pipe waits for a writer forever, and opening a device can have effects.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import Callable, Iterable

from desktop_rag.core.filenames import display_name, short_display_path
from desktop_rag.core.ingest.formats import is_supported
from desktop_rag.errors import FileAccessError

NAME_MAX_BYTES = 255  # Linux, macOS and the BSDs: the longest name of one file or folder
PATH_MAX_BYTES = 4096  # Linux: the longest path, its final NUL byte included

_SPECIAL_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
)


def discover_documents(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, folders expanded recursively (see the module docstring), in a stable order,
    no repeats. Nothing is opened here; what cannot be read is reported when it is reached."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        found.extend(_walk(path) if _is_folder(path) else [path])
    seen: set[Path] = set()
    return [p for p in found if not (p in seen or seen.add(p))]


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a path too long, ...: the file's failure, reported when it is reached
        return False


def _walk(folder: Path) -> list[Path]:
    """The supported files under ``folder`` and the folders under it that could not be read, sorted."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        found.append(Path(exc.filename) if exc.filename else folder)

    for top, _folders, names in os.walk(folder, onerror=unreadable):
        found.extend(Path(top, name) for name in names if is_supported(name))
    return sorted(found)


def file_access_error(path: Path, exc: OSError) -> FileAccessError:
    """The error for a file that cannot be found or read, worded for the user."""
    shown = short_display_path(path)
    if isinstance(exc, FileNotFoundError):
        return FileAccessError(str(path), f"{shown}: file not found")
    if isinstance(exc, PermissionError):
        return FileAccessError(str(path), f"{shown}: cannot be read (permission denied)")
    if exc.errno == errno.ENAMETOOLONG:
        return FileAccessError(str(path), f"{shown}: cannot be read: {_too_long(path)}")
    return FileAccessError(str(path), f"{shown}: cannot be read ({exc.strerror or exc})")


def _too_long(path: Path) -> str:
    if max((len(os.fsencode(part)) for part in path.parts), default=0) > NAME_MAX_BYTES:
        return f"a name in its path is longer than the {NAME_MAX_BYTES} bytes this system allows"
    return (f"its path is {len(os.fsencode(path)):,} bytes long, more than the {PATH_MAX_BYTES:,} "
            "this system allows")


def checked_stat(path: Path) -> os.stat_result:
    """The file's status if it is a regular file (links followed); else the
    :class:`FileAccessError` that says what it is. The file is not opened."""
    try:
        status = path.stat()
    except OSError as exc:
        raise file_access_error(path, exc) from exc
    if stat.S_ISDIR(status.st_mode):
        raise _folder_error(path)
    if not stat.S_ISREG(status.st_mode):
        kind = next((what for test, what in _SPECIAL_KINDS if test(status.st_mode)), "a special file")
        raise FileAccessError(str(path), f"{display_name(path)}: is {kind}, not a regular file; it was not opened")
    return status


def _folder_error(path: Path) -> FileAccessError:
    """A folder where a file was expected: one the walk could not read, or one given as a file."""
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        reason = file_access_error(path, exc)
        return FileAccessError(str(path), f"{reason} (a folder: the documents in it, if any, were not indexed)")
    return FileAccessError(str(path), f"{short_display_path(path)}: is a folder, not a file")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a regular file's content (:func:`checked_stat` first: nothing else is opened)."""
    checked_stat(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise file_access_error(path, exc) from exc
    return digest.hexdigest()
