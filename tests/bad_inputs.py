"""Folders of files that used to hang, abort or mislead ingestion, for the CLI and GUI tests alike."""

from __future__ import annotations

import os
from pathlib import Path

from pdfs import blank_page_pdf, brotli_content_pdf, encrypt_pdf, make_pdf, reencrypted, write_pdf

LATIN1 = b"m-caf\xe9.pdf"  # "cafe" with an accent, written by an old Latin-1 system
SHOWN = "m-caf\ufffd.pdf"  # how it is shown


def latin1_path(folder: Path) -> Path:
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + LATIN1))


def make_deep(top: Path) -> None:
    here = os.getcwd()
    try:
        os.chdir(top)
        for _ in range(31):  # a path of about 6,300 characters
            os.mkdir("d" * 200)
            os.chdir("d" * 200)
        write_pdf(Path("deep.pdf"), ["Too deep."])
    finally:
        os.chdir(here)


def mixed_folder(root: Path, with_latin1: bool = True) -> dict[str, str]:
    """Good files (one with a Latin-1 name, unless not ``with_latin1``) beside every bad case of the
    issue; returns {bad file name: the start of its reason}."""
    root.mkdir()
    for name in ("good-1.pdf", "good-2.pdf"):
        write_pdf(root / name, [f"{name} is about lighthouses and harbours."])
    if with_latin1:
        write_pdf(latin1_path(root), ["Coffee from the cafe is strong and bitter."])
    os.mkfifo(root / "pipe.pdf")
    make_deep(root)
    plain = write_pdf(root.parent / "plain.pdf", ["secret text"])
    (root / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 12 + b"\n%%EOF\n")
    (root / "brotli.pdf").write_bytes(brotli_content_pdf())
    reencrypted(plain, root / "rc4.pdf", "RC4-128", (b"/Length 128", b"/Length 48"))
    encrypt_pdf(plain, root / "locked.pdf", "s3cret")
    (root / "blank.pdf").write_bytes(blank_page_pdf())
    (root / "scan.pdf").write_bytes(make_pdf(["x"], scanned=True))
    (root / "notes.pdf").write_text("just notes")
    (root / "empty.pdf").write_bytes(b"")
    (root / "half.pdf").write_bytes(make_pdf(["half a file"])[:300])
    return {
        "pipe.pdf": "pipe.pdf: is a named pipe (FIFO), not a regular file; it was not opened",
        "d" * 200: "this system allows",
        "garbage.pdf": "garbage.pdf: the PDF is damaged and cannot be read",
        "brotli.pdf": "brotli.pdf: the PDF uses a compression method this program cannot read",
        "rc4.pdf": "rc4.pdf: the PDF is encrypted with an unsupported method",
        "locked.pdf": "locked.pdf: the PDF is encrypted and needs a password",
        "blank.pdf": "blank.pdf: no text on its one page",
        "scan.pdf": "scan.pdf: no text on its one page, only images",
        "notes.pdf": "notes.pdf: not a PDF file",
        "empty.pdf": "empty.pdf: empty file (0 bytes)",
        "half.pdf": "half.pdf: the PDF is truncated",
    }
