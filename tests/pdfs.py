"""Builds small real PDF files for tests: text pages, scanned (image-only) pages, encrypted copies."""

from __future__ import annotations

import io
import textwrap
import zlib
from pathlib import Path
from typing import Sequence


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content_for_text(text: str) -> bytes:
    lines: list[str] = []
    for para in text.split("\n"):
        lines.extend(textwrap.wrap(para, 90) or [""])
    ops = ["BT", "/F1 10 Tf", "12 TL", "50 760 Td"]
    for line in lines[:60]:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1", "replace")


def make_pdf(pages: Sequence[str], *, scanned: bool = False, title: str = "") -> bytes:
    """A valid PDF; each page shows its text in Helvetica, or (scanned) only a grey image."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled later
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    image = None
    if scanned:
        pixels = zlib.compress(bytes(range(64)) * 64)
        image = add(
            b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
        )
    kids = []
    for text in pages:
        if scanned:
            content = b"q 400 0 0 400 100 300 cm /Im1 Do Q"
            resources = b"<< /XObject << /Im1 %d 0 R >> >>" % image
        else:
            content = _content_for_text(text)
            resources = b"<< /Font << /F1 %d 0 R >> >>" % font
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources " % pages_obj
            + resources + b" /Contents %d 0 R >>" % stream
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = add(b"<< /Title (%s) >>" % _escape(title).encode("latin-1")) if title else None

    return serialize_pdf(objects, root=catalog, info=info)


def serialize_pdf(objects: Sequence[bytes], root: int = 1, info: int | None = None) -> bytes:
    """Objects (numbered from 1) -> a PDF file with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets))
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def flate_bomb_pdf(path: Path, inflated_mb: int) -> Path:
    """One page whose small compressed content stream inflates to ``inflated_mb`` MB (a decompression bomb)."""
    content = b"BT /F1 12 Tf 50 700 Td (Bomb payload text) Tj ET\n" + b" " * (inflated_mb << 20)
    packed = zlib.compress(content, 1)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    path.write_bytes(serialize_pdf(objects))
    return path


def write_pdf(path: Path, pages: Sequence[str], **kwargs: object) -> Path:
    path.write_bytes(make_pdf(pages, **kwargs))  # type: ignore[arg-type]
    return path


def encrypt_pdf(source: Path, target: Path, user_password: str, owner_password: str = "owner") -> Path:
    """AES-256 encrypted copy (pypdf + cryptography). Empty user password = permissions only."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    with target.open("wb") as fh:
        writer.write(fh)
    return target


# ------------------------------------------------------------------ unusual and damaged files


def _one_page(content: bytes, resources: bytes = b"", extra: Sequence[bytes] = ()) -> bytes:
    """One page drawing ``content`` (a whole stream object: dictionary and data), objects 1-4, then ``extra``."""
    return serialize_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << " + resources + b" >> /Contents 4 0 R >>",
        content, *extra,
    ])


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), entries) + data + b"\nendstream"


def blank_page_pdf() -> bytes:
    """A page with an empty content stream: nothing on it at all."""
    return _one_page(_stream(b""))


def shading_pdf() -> bytes:
    """A page painted with a colour gradient: drawn, but holding neither text nor an image."""
    shading = (b"<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 612 792] /Function << /FunctionType 2 "
               b"/Domain [0 1] /C0 [1 0 0] /C1 [0 0 1] /N 1 >> >>")
    return _one_page(_stream(b"/Sh1 sh"), b"/Shading << /Sh1 5 0 R >>", [shading])


def brotli_content_pdf() -> bytes:
    """The page's text is compressed with Brotli (PDF 2.0 extension; neither parser here reads it)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    return _one_page(_stream(b"\x8b\x05\x80Hello\x03", b"/Filter /BrotliDecode"), b"/Font << /F1 5 0 R >>", [font])


def brotli_object_stream_pdf() -> bytes:
    """The page tree sits in a Brotli-compressed object stream, found through a cross-reference stream."""
    out = io.BytesIO()
    out.write(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}

    def obj(number: int, body: bytes) -> None:
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(3, _stream(b"\x8b\x05\x80" * 20, b"/Type /ObjStm /N 1 /First 4 /Filter /BrotliDecode"))
    xref_at = out.tell()
    rows = [(0, 0, 65535), (1, offsets[1], 0), (2, 3, 0), (1, offsets[3], 0), (1, xref_at, 0)]
    table = b"".join(kind.to_bytes(1, "big") + a.to_bytes(4, "big") + b.to_bytes(2, "big") for kind, a, b in rows)
    obj(4, _stream(table, b"/Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R"))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return out.getvalue()


def reencrypted(source: Path, target: Path, algorithm: str, replace: tuple[bytes, bytes]) -> Path:
    """An encrypted copy (empty user password) whose encryption dictionary is then changed: ``replace``
    is (old bytes, new bytes), e.g. an RC4 key length no cipher library accepts, or an unknown handler."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    assert replace[0] in data
    target.write_bytes(data.replace(*replace))
    return target
