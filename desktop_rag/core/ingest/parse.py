"""The extraction child's work: one PDF file -> its pages, or the kind of its failure.

This runs inside the child process of :mod:`desktop_rag.core.ingest.extract`. pypdfium2 reads the
file; pypdf reads it when pdfium cannot, or when pdfium finds no text at all (pypdf may find some,
or say why: a compression method pdfium does not know leaves its pages blank). A failure comes back
as a kind the parent words for the user (:data:`KINDS`) and the parsers' own messages as the
detail for the log: those name library internals ("PDFium: Success"), carry an empty
"AssertionError: ", or tell the user to ``pip install`` something.
"""

from __future__ import annotations

import errno
from typing import Any

from desktop_rag.core.ingest.ocr import draws_image, nearly_empty

OK, ENCRYPTED, CIPHER, COMPRESSION, DAMAGED, LIMIT = "ok", "encrypted", "cipher", "compression", "corrupt", "limit"
KINDS = (OK, ENCRYPTED, CIPHER, COMPRESSION, DAMAGED, LIMIT)

PDFIUM_PASSWORD, PDFIUM_SECURITY = 4, 5  # FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY
_CIPHER_WORDS = ("encrypt", "decrypt", "crypt", "rc4", "aes", "key size", "security")
_COMPRESSION_WORDS = ("filter", "decode", "brotli", "jbig2")

# (page number, text) pairs, title, the numbers of the pages whose text layer is (nearly) empty but that draw
# images: scans, which OCR may read (see :mod:`.ocr`).
Parsed = tuple[list[tuple[int, str]], str, list[int]]


def parse_pdf(path: str) -> tuple[str, Any]:
    """``("ok", [pages, title, image pages])`` or ``(kind, detail)``; never raises for a bad file."""
    try:
        found = _pages_with_pdfium(path)
    except Exception as exc:  # noqa: BLE001 - any pdfium failure: pypdf may read the file
        if _out_of_memory(exc):
            return LIMIT, "memory"
        return _parse_with_pypdf(path, exc)
    if _has_text(found):
        return OK, list(found)
    kind, payload = _parse_with_pypdf(path, None)
    if (kind == OK and _has_text(payload)) or kind in (COMPRESSION, CIPHER):
        return kind, payload
    return OK, list(found)  # blank pages, or drawings only: the parent says there is no text


def _has_text(found: Parsed | list[Any]) -> bool:
    return any(text.strip() for _, text in found[0])


def _parse_with_pypdf(path: str, pdfium_error: BaseException | None) -> tuple[str, Any]:
    try:
        return OK, list(_pages_with_pypdf(path))
    except Exception as exc:  # noqa: BLE001 - pypdf raises AssertionError, TypeError, ... on broken files
        if _out_of_memory(exc):
            return LIMIT, "memory"
        detail = f"pdfium: {_describe(pdfium_error)}; pypdf: {_describe(exc)}"
        return _kind_of(exc) or (_kind_of(pdfium_error) if pdfium_error else None) or DAMAGED, detail


def _describe(exc: BaseException | None) -> str:
    return "no text found" if exc is None else f"{type(exc).__name__}: {exc}"


def _kind_of(exc: BaseException) -> str | None:
    """What a parser's exception says about the file, when it says something the user can act on."""
    code = getattr(exc, "err_code", None)
    if isinstance(exc, PermissionError) or code == PDFIUM_PASSWORD or type(exc).__name__ == "FileNotDecryptedError":
        return ENCRYPTED
    text = str(exc).lower()
    if code == PDFIUM_SECURITY or any(word in text for word in _CIPHER_WORDS):
        return CIPHER
    missing = isinstance(exc, NotImplementedError) or type(exc).__name__ == "DependencyError"
    if missing and any(word in text for word in _COMPRESSION_WORDS):
        return COMPRESSION
    return None


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or a parser library that could not be loaded under the address-space cap.

    Under a small cap ``dlopen`` fails ("failed to map segment") as ImportError or OSError; that is
    the limit talking, not a damaged file.
    """
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, (ImportError, OSError)) and (
        getattr(exc, "errno", None) == errno.ENOMEM or "failed to map segment" in str(exc)
    )


def _pages_with_pdfium(path: str) -> Parsed:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(path)
    try:
        title = str(doc.get_metadata_dict().get("Title", "") or "")
        pages, scanned = [], []
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            pages.append((index + 1, textpage.get_text_range()))
            textpage.close()
            if nearly_empty(pages[-1][1]) and draws_image(page):  # a scan? (only near-blank pages are looked at)
                scanned.append(index + 1)
            page.close()
        return pages, title, scanned
    finally:
        doc.close()


def _pages_with_pypdf(path: str) -> Parsed:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise PermissionError("password required")
    title = str((reader.metadata or {}).get("/Title", "") or "")
    pages, scanned = [], []
    for number, page in enumerate(reader.pages, 1):
        pages.append((number, page.extract_text() or ""))
        if nearly_empty(pages[-1][1]) and _holds_image(page):
            scanned.append(number)
    return pages, title, scanned


def _holds_image(page: Any) -> bool:
    """Whether a pypdf page draws an image of its own (images inside forms are not looked for)."""
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        found = xobjects.get_object().values() if xobjects is not None else ()
        return any(x.get_object().get("/Subtype") == "/Image" for x in found)
    except Exception:  # noqa: BLE001 - a broken resource dictionary holds no image we can see
        return False
