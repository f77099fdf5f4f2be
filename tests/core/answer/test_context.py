"""Hits -> passages: neighbours merged, then widened on their page to whole lines."""

from __future__ import annotations

from desktop_rag.core.answer.context import merge_hits, widen
from desktop_rag.core.types import Hit, Passage

LINES = [f"line {n:02d} " + "word " * 8 for n in range(40)]  # 48 characters a line with its newline
PAGE = "\n".join(LINES)


def page_text(doc_id: int, page: int) -> str | None:
    return {(1, 3): PAGE, (1, 4): "short page"}.get((doc_id, page))


def passage(number: int, start: int, end: int, page: int = 3, page_end: int | None = None, doc: int = 1) -> Passage:
    text = (page_text(doc, page) or "")[start:end]
    return Passage(number, doc, "f.pdf", "/f.pdf", page, page if page_end is None else page_end, start, end,
                   (number,), text)


def test_merge_hits_joins_neighbours_on_a_page_and_drops_duplicates() -> None:
    page = "alpha beta gamma delta epsilon zeta eta theta"

    def hit(cid: int, start: int, end: int, doc: int = 1) -> Hit:
        return Hit(cid, doc, "f.pdf", "/f.pdf", 3, 3, start, end, 1.0, page[start:end])

    passages = merge_hits([hit(1, 0, 16), hit(2, 11, 30), hit(3, 0, 16, doc=2)], lambda d, p: page)
    assert len(passages) == 1  # doc 2's chunk has the same text as an earlier passage
    assert passages[0].text == page[0:30] and passages[0].chunk_ids == (1, 2)


def test_widen_grows_a_passage_to_whole_lines_centred_on_it() -> None:
    start = PAGE.index("line 20")
    [wide] = widen([passage(1, start, start + 10)], page_text, chars=480)
    assert wide.text == PAGE[wide.start_offset:wide.end_offset]
    assert wide.start_offset <= start and wide.end_offset >= start + 10
    assert 480 <= len(wide.text) <= 480 + 2 * 48  # about the size asked for, rounded out to line ends
    assert wide.text.startswith("line ") and wide.text.endswith(LINES[0][-5:])  # whole lines
    before, after = start - wide.start_offset, wide.end_offset - (start + 10)
    assert abs(before - after) <= 48  # centred


def test_widen_shifts_inward_at_the_page_edges_and_keeps_short_pages_whole() -> None:
    [top] = widen([passage(1, 0, 10)], page_text, chars=480)
    assert top.start_offset == 0 and len(top.text) >= 480
    [bottom] = widen([passage(1, len(PAGE) - 10, len(PAGE))], page_text, chars=480)
    assert bottom.end_offset == len(PAGE) and len(bottom.text) >= 480
    [short] = widen([Passage(1, 1, "f.pdf", "/f.pdf", 4, 4, 0, 5, (1,), "short")], page_text, chars=480)
    assert short.text == "short page"


def test_widen_joins_passages_that_meet_and_renumbers() -> None:
    a, b = PAGE.index("line 10"), PAGE.index("line 14")
    far = PAGE.index("line 35")
    out = widen([passage(1, a, a + 10), passage(2, far, far + 10), passage(3, b, b + 10)], page_text, chars=240)
    assert [p.number for p in out] == [1, 2]
    assert out[0].start_offset <= a and out[0].end_offset >= b + 10  # the third joined the first, at its rank
    assert out[0].chunk_ids == (1, 3) and out[1].chunk_ids == (2,)


def test_widen_leaves_passages_across_a_page_break_and_unknown_pages_alone() -> None:
    across = Passage(1, 1, "f.pdf", "/f.pdf", 3, 4, 100, 5, (1,), "across two pages")
    gone = Passage(2, 9, "g.pdf", "/g.pdf", 1, 1, 0, 4, (2,), "gone")
    assert widen([across, gone], page_text, chars=480) == [across, gone]


def test_a_widened_passage_starts_at_a_sentence_not_in_the_middle_of_one() -> None:
    page = ("The Company reports four segments across the Americas and the Rest of Asia Pacific\n"
            "region. Further information is in Note 9.\nTotal net sales $ 82,959 $ 81,434\n")
    at = page.index("Total")

    def text(doc_id: int, number: int) -> str:
        return page

    [wide] = widen([Passage(1, 1, "f.pdf", "/f.pdf", 1, 1, at, at + 20, (1,), page[at:at + 20])], text, chars=60)
    assert wide.text.startswith("Further information is in Note 9.")
    assert wide.text == page[wide.start_offset:wide.end_offset]
