"""Running headers and footers are found per document and kept out of passages and quotes."""

from __future__ import annotations

from desktop_rag.core.answer.running import RunningLines, line_key, running_lines, without_running_lines

PAGES = [f"Apple Inc. | Q3 2022 Form 10-Q | {n}\nBody text of page {n} differs {'x' * n}.\nFooter note"
         for n in range(1, 11)]


def test_lines_repeated_on_most_pages_are_running_whatever_their_page_number() -> None:
    running = running_lines(PAGES)
    assert line_key("Apple Inc. | Q3 2022 Form 10-Q | 27") in running
    assert line_key("Footer note") in running
    assert not any("body text" in key for key in running)
    assert running_lines(PAGES[:2]) == frozenset()  # too few pages to tell


def test_passages_lose_their_running_lines_and_keep_the_rest() -> None:
    text = "Apple Inc. | Q3 2022 Form 10-Q | 13\nTotal net sales increased 2%."
    assert without_running_lines(text, running_lines(PAGES)) == "Total net sales increased 2%."


def test_running_lines_are_read_once_per_document() -> None:
    reads: list[int] = []
    lines = RunningLines(lambda doc_id: reads.append(doc_id) or PAGES)
    assert lines.of(7) == lines.of(7) and reads == [7]
