"""File names as the user reads them, whatever bytes the file system holds: a leaf every stage may use.

On Linux and the BSDs a file name is bytes. Python gives a name that is not valid UTF-8 (``café``
written in Latin-1 on an old disk, a USB stick or an archive from another system: ``b"caf\\xe9"``)
as text with surrogate escapes (``"caf\\udce9"``). That text opens the file, but it cannot be
written to SQLite, to a UTF-8 terminal or to a Qt widget (Qt silently drops the character). So a
path stays as Python gives it wherever the file is opened, and is shown through
:func:`display_path` and :func:`display_name`, which put U+FFFD (the replacement character) where
a byte is not UTF-8, as GLib's ``g_filename_display_name`` does.
"""

from __future__ import annotations

import os
import re

REPLACEMENT = "\ufffd"
SHORT_PATH_CHARS = 120  # a path longer than this is shown with its middle left out

_SURROGATES = re.compile("[\ud800-\udfff]")


def display_text(text: str) -> str:
    """``text`` with every undecodable byte (a surrogate escape) shown as U+FFFD."""
    return _SURROGATES.sub(REPLACEMENT, text)


def is_displayable(text: str) -> bool:
    """Whether ``text`` holds no surrogate escape (it can be shown and stored as it is)."""
    return _SURROGATES.search(text) is None


def display_path(path: str | os.PathLike[str]) -> str:
    return display_text(os.fspath(path))


def display_name(path: str | os.PathLike[str]) -> str:
    """The last part of the path (the file's name), readable."""
    return display_text(os.path.basename(os.fspath(path)))


def short_display_path(path: str | os.PathLike[str], limit: int = SHORT_PATH_CHARS) -> str:
    """:func:`display_path`, with the middle of a path longer than ``limit`` characters left out."""
    shown = display_path(path)
    if len(shown) <= limit:
        return shown
    keep = (limit - 1) // 2
    return f"{shown[:keep]}…{shown[-keep:]}"
