"""Page rendering and passage highlighting: offsets in our normalized page text -> pdfium rectangles."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from desktop_rag.core.ingest.extract import normalize_page_text
from desktop_rag.core.ingest.render import POINTS_PER_INCH, raw_text_indices, render_page, utf16_indices
from desktop_rag.errors import CorruptPdfError, FileAccessError
from pdfs import write_pdf

LINES = ["First line of the page says hello.", "Second line mentions apples and pears.",
         "Third line holds the answer: forty-two widgets.", "Fourth line closes the page."]


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    return write_pdf(tmp_path / "page.pdf", ["\n".join(LINES), "Another page entirely."])


def _stored_text(path: Path, number: int) -> str:
    """Our page text exactly as ingestion stores it."""
    doc = pdfium.PdfDocument(str(path))
    try:
        return normalize_page_text(doc[number - 1].get_textpage().get_text_range())
    finally:
        doc.close()


def passage_rects(path: Path, page_number: int, start: int, end: int, page_text: str) -> list:
    """The highlight of ``[start, end)`` as the viewer gets it, rendered at 72 dpi: pixels are PDF points."""
    page = render_page(path, page_number, dpi=POINTS_PER_INCH, highlight=(start, end), page_text=page_text)
    return list(page.highlights)


def _text_under(path: Path, number: int, rects: list) -> str:
    doc = pdfium.PdfDocument(str(path))
    try:
        page = doc[number - 1]
        height, textpage = page.get_height(), page.get_textpage()
        return " ".join(textpage.get_text_bounded(left, height - bottom, right, height - top)
                        for left, top, right, bottom in rects)
    finally:
        doc.close()


def test_raw_text_indices_undo_line_break_and_control_char_normalization() -> None:
    raw = "ab\r\ncd\x02e\rf"
    text = normalize_page_text(raw)
    assert text == "ab\ncde\nf"
    mapping = raw_text_indices(raw)
    assert len(mapping) == len(text) + 1
    assert [raw[mapping[i]] for i in range(len(text))] == ["a", "b", "\r", "c", "d", "e", "\r", "f"]
    assert mapping[-1] == len(raw)


def test_utf16_indices_count_astral_characters_twice() -> None:
    assert utf16_indices("a\U0001F600b") == [0, 1, 3, 4]


def test_passage_on_a_later_line_is_highlighted_where_it_is(pdf: Path) -> None:
    text = _stored_text(pdf, 1)
    assert "\r" not in text and text.count("\n") >= 3  # pdfium's CRLFs were normalized away
    start = text.index("forty-two widgets")
    rects = passage_rects(pdf, 1, start, start + len("forty-two widgets"), page_text=text)
    assert rects
    under = _text_under(pdf, 1, rects)
    assert "forty-two" in under and "widgets" in under
    assert "apples" not in under and "hello" not in under
    top = min(r[1] for r in rects)
    first_line = passage_rects(pdf, 1, 0, 5, page_text=text)
    assert top > min(r[1] for r in first_line)  # lower on the page than the first line (top-left origin)


def test_a_passage_over_several_lines_gets_one_rectangle_per_line(pdf: Path) -> None:
    text = _stored_text(pdf, 1)
    start, end = text.index("Second"), text.index("Fourth")
    rects = passage_rects(pdf, 1, start, end, page_text=text)
    assert len(rects) >= 2
    under = _text_under(pdf, 1, rects)
    assert "apples" in under and "forty-two" in under


def test_changed_file_gives_no_highlight_rather_than_a_wrong_one(pdf: Path) -> None:
    assert passage_rects(pdf, 1, 0, 10, page_text="some other text the page no longer has") == []


def test_render_page_returns_rgba_and_highlights_in_pixels(pdf: Path) -> None:
    text = _stored_text(pdf, 1)
    start = text.index("apples")
    page = render_page(pdf, 1, dpi=72, highlight=(start, start + 6), page_text=text)
    assert (page.width, page.height) == (612, 792)  # a Letter page at 72 dpi
    assert page.page_count == 2 and page.number == 1
    assert len(page.rgba) == page.stride * page.height and page.stride >= page.width * 4
    assert any(page.rgba[i] < 128 for i in range(0, len(page.rgba), 4))  # some dark text pixels
    [(left, top, right, bottom)] = page.highlights
    assert 0 < left < right < page.width and 0 < top < bottom < page.height
    double = render_page(pdf, 1, dpi=144, highlight=(start, start + 6), page_text=text)
    assert double.highlights[0][0] == pytest.approx(2 * left, rel=0.01)


def test_missing_page_and_missing_file_are_clear_errors(pdf: Path, tmp_path: Path) -> None:
    with pytest.raises(CorruptPdfError, match="has 2 pages"):
        render_page(pdf, 5)
    with pytest.raises(FileAccessError, match="not found"):
        render_page(tmp_path / "gone.pdf", 1)


def test_renders_from_several_threads_at_once_do_not_crash(pdf: Path) -> None:
    """PDFium is not thread-safe; the GUI renders previews in worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    text = _stored_text(pdf, 1)
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda i: render_page(pdf, 1 + i % 2, dpi=60, highlight=(0, 5),
                                                    page_text=text if i % 2 == 0 else None), range(24)))
    assert {p.number for p in pages} == {1, 2}
    assert all(p.highlights for p in pages if p.number == 1)
