"""The OCR module's own logic, without running the engine: which pages need it, the page text and word
boxes it builds, render sizes, and the reasons when the engine is missing or fails to load."""

from __future__ import annotations

import errno

import pytest

from desktop_rag.core.ingest.ocr import (MAX_RENDER_PIXELS, OCR_DPI, OcrUnavailable, PageReader, layout,
                                         nearly_empty, out_of_memory, render_scale)
from desktop_rag.core.ingest.render import word_rects


def box(left: float, top: float, right: float, bottom: float) -> list[list[float]]:
    return [[left, top], [right, top], [right, bottom], [left, bottom]]


def test_a_page_with_only_a_page_number_or_a_stamp_is_nearly_empty_but_a_sentence_is_not() -> None:
    assert nearly_empty("") and nearly_empty("  \n 12 \n") and nearly_empty("Page 3 of 40")
    assert not nearly_empty("Revenue grew by ten percent in the quarter.")


def test_layout_gives_each_word_its_span_in_the_page_text_and_its_box_in_points() -> None:
    scale = 2.0  # pixels per point
    lines = [[("Net", box(10, 20, 40, 40)), ("sales  rose", box(50, 20, 150, 40))],
             [("  ", box(0, 0, 1, 1))],  # a line of nothing but spaces is dropped
             [("10%", box(10, 60, 50, 80))]]

    text, words = layout(lines, scale)

    assert text == "Net sales rose\n10%"
    assert [text[s:e] for s, e, *_ in words] == ["Net", "sales rose", "10%"]
    assert words[0][2:] == (5.0, 10.0, 20.0, 20.0)  # pixels / scale: PDF points from the top-left
    assert words[2][2:] == (5.0, 30.0, 25.0, 40.0)


def test_word_rects_cover_the_words_a_passage_overlaps_one_rectangle_per_line() -> None:
    """The detector's padded boxes lose 15% of their height at the top and the bottom."""
    text, words = layout([[("alpha", box(0, 0, 50, 20)), ("beta", box(60, 0, 100, 20))],
                          [("gamma", box(0, 20, 50, 40)), ("delta", box(60, 20, 100, 40))]], 1.0)
    start = text.index("beta")
    end = text.index("gamma") + len("gamma")

    assert word_rects(words, start, end) == [(60.0, 3.0, 100.0, 17.0), (0.0, 23.0, 50.0, 37.0)]
    assert word_rects(words, 0, len(text)) == [(0.0, 3.0, 100.0, 17.0), (0.0, 23.0, 100.0, 37.0)]
    assert word_rects(words, len(text), len(text) + 5) == []


def test_a_poster_sized_page_is_read_at_a_lower_resolution_a_letter_page_at_the_ocr_dpi() -> None:
    assert render_scale(612, 792) == pytest.approx(OCR_DPI / 72)
    scale = render_scale(14400, 14400)  # the largest page PDF allows: 200 x 200 inches
    assert (14400 * scale) ** 2 == pytest.approx(MAX_RENDER_PIXELS, rel=1e-6)


def test_an_engine_that_is_not_installed_is_named_as_such() -> None:
    def load() -> None:
        raise ModuleNotFoundError("No module named 'rapidocr'", name="rapidocr")

    with pytest.raises(OcrUnavailable, match=r"the OCR engine is not installed \(rapidocr\)"):
        PageReader(load).engine()


def test_an_engine_that_fails_to_load_says_why() -> None:
    def load() -> None:
        raise RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model failed")

    with pytest.raises(OcrUnavailable, match="the OCR engine could not be loaded .*INVALID_PROTOBUF"):
        PageReader(load).engine()


def test_an_engine_that_cannot_get_memory_is_the_memory_limit_not_a_broken_engine() -> None:
    def load() -> None:
        raise ImportError("libonnxruntime.so: failed to map segment from shared object")

    with pytest.raises(MemoryError):
        PageReader(load).engine()
    assert out_of_memory(RuntimeError("Status Message: std::bad_alloc"))
    assert out_of_memory(OSError(errno.ENOMEM, "Cannot allocate memory"))
    assert not out_of_memory(RuntimeError("Load model failed"))


def test_the_engine_loads_once_and_only_when_a_page_needs_it() -> None:
    loads: list[int] = []
    reader = PageReader(lambda: loads.append(1) or "engine")
    assert loads == []
    assert reader.engine() == reader.engine() == "engine"
    assert loads == [1]
