"""Running headers and footers are found per document and kept out of passages and quotes."""

from __future__ import annotations

from desktop_rag.core.answer.running import line_key, running_lines, without_running_lines

PAGES = [f"Apple Inc. | Q3 2022 Form 10-Q | {n}\nBody text of page {n} differs {'x' * n}.\nFooter note"
         for n in range(1, 11)]


def test_lines_repeated_on_most_pages_are_running_whatever_their_page_number() -> None:
    running = running_lines(PAGES)
    assert line_key("Apple Inc. | Q3 2022 Form 10-Q | 27") in running
    assert line_key("Footer note") in running
    assert not any("body text" in key for key in running)
    assert running_lines(PAGES[:2]) == frozenset()  # too few pages to tell


def test_a_sections_own_footer_with_its_page_number_is_running() -> None:
    # on 4 of 20 pages (the notes), too few for the 30% rule; a total at the foot of 4 pages is not one
    notes = [f"Note {n} body text {'y' * n}.\nFinancial Statements Notes to Financial Statements {n}" for n in range(4)]
    totals = [f"Table body text {'t' * n}.\nTotal 1,2{n}4" for n in range(4)]
    others = [f"MD&A body text of page {n} {'z' * n}." for n in range(12)]
    running = running_lines(notes + totals + others)
    assert line_key("Financial Statements Notes to Financial Statements 17") in running
    assert not any(key.startswith("total") or "body text" in key for key in running)


def test_passages_lose_their_running_lines_and_keep_the_rest() -> None:
    text = "Apple Inc. | Q3 2022 Form 10-Q | 13\nTotal net sales increased 2%."
    assert without_running_lines(text, running_lines(PAGES)) == "Total net sales increased 2%."


def test_derived_facts_are_worked_out_once_while_the_library_stays_the_same(tmp_path) -> None:  # noqa: ANN001
    from desktop_rag.core.store.library import Store

    reads: list[int] = []

    def read(keys: list) -> dict:  # noqa: ANN001
        reads.extend(k[1] for k in keys)
        return {k: running_lines(PAGES) for k in keys}

    with Store(tmp_path / "data") as store:
        first = store.facts.get_many([("running", 7)], read)
        assert first == store.facts.get_many([("running", 7)], read) and reads == [7]
        store.facts.invalidate()  # what a write to the library does
        store.facts.get_many([("running", 7)], read)
        assert reads == [7, 7]
