"""The checks made on a zip-based document (.docx, .pptx, .epub) before its parser opens it.

Runs in the extraction child. A file that is not a zip, a zip without the part its format needs
(an .xlsx renamed .pptx), or a zip whose parts unpack to more than
:data:`~.formats.MAX_DOCX_UNPACKED_BYTES` (a zip bomb) is refused with its reason.
"""

from __future__ import annotations

import logging
import zipfile
from typing import Callable, TypeVar

from desktop_rag.core.ingest.formats import MAX_DOCX_UNPACKED_BYTES
from desktop_rag.core.ingest.sections import Refused

log = logging.getLogger(__name__)
T = TypeVar("T")


def check_package(path: str, kind: str, needed: str) -> list[str]:
    """The names of the zip's parts, if it is a ``kind`` document holding ``needed``; else :class:`Refused`."""
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused(f"not a {kind}: it is not a zip package") from exc
    if needed not in names:
        other = ": an Office file of another kind renamed?" if "[Content_Types].xml" in names else ""
        raise Refused(f"a zip file but not a {kind} (no {needed} in it){other}")
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise Refused(f"its parts unpack to {unpacked / 2**20:,.0f} MB, over the "
                      f"{MAX_DOCX_UNPACKED_BYTES // 2**20} MB limit (a zip bomb?)")
    return names


def read_package(read: Callable[[], T], path: str, parser: str, damaged: str) -> T:
    """``read()``, with any error its parser (``parser``: "python-docx") raises on a broken part
    refused as ``damaged``; running out of memory is not the file's fault and goes on up."""
    try:
        return read()
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - the parsers and lxml raise many kinds on broken parts
        log.info("%s could not read %s: %s: %s", parser, path, type(exc).__name__, exc)
        raise Refused(damaged) from exc
