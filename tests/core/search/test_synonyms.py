"""Report words: a question's "capex" or "R&D" also looks for the words reports print instead."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fakes import HashEmbedder

from desktop_rag.core.answer.quotes import select_quotes
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.search.synonyms import report_words, with_report_words
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, Page, Passage

EMB = HashEmbedder()
CASH_FLOWS = "Cash flows used in investing activities\nAdditions to property, plant and equipment (7,413) (4,595)"
TEXTS = [CASH_FLOWS, "Interest, net of capitalized interest 313 177", "We sell chips in many regions of the world."]


def test_the_words_reports_use_for_what_a_question_names() -> None:
    assert report_words("What was the company's capex in 2023?")[:4] == ["additions", "purchases", "property", "plant"]
    assert report_words("How much did R&D cost?") == ["research", "development"]
    assert "research" not in report_words("How much did research and development cost?")  # already asked
    assert report_words("What was the gross margin?") == ["profit"]  # the income statement's "Gross profit"
    assert report_words("What did the company sell?") == []
    # income statements print "Operating expenses" for what questions call costs or spending
    assert report_words("Did NVIDIA's operating costs shift?") == ["expenses"]
    assert report_words("How did operational spending relate to revenue?") == ["operating", "expenses"]
    # an analyst's measure, by the statement lines it is worked out from
    assert report_words("What was NVIDIA's net AR?") == ["accounts", "receivable"]
    assert report_words("What AR glasses did Apple show?") == []  # AR alone is not receivables
    assert report_words("What was Apple's working capital?") == ["total", "current", "assets", "liabilities"]
    assert report_words("Intel's EBITDA") == ["operating", "income", "depreciation", "amortization"]
    assert with_report_words("What did the company sell?") == "What did the company sell?"
    assert with_report_words("Who is the CEO?") == "Who is the CEO? chief executive officer"
    assert report_words("What is Apple's ticker symbol?") == ["trading", "symbols"]  # the cover's "Trading symbol(s)"
    # "ongoing legal battles" should find "Item 3. Legal Proceedings", whose passages never say "battles"
    assert report_words("What ongoing legal battles is Apple involved in?") == ["proceedings", "litigation"]
    assert report_words("Which lawsuits does Amazon face?") == ["legal", "proceedings", "litigation"]
    assert report_words("Is NVIDIA being sued?") == ["legal", "proceedings", "litigation"]
    assert report_words("Which legal entity files the report?") == []
    # quotes only: a question about debt is also quoted the borrowings a note states ("There were $1.0 billion
    # and $972 million of borrowings outstanding under the Credit Facility"); search looks for "debt" alone
    assert report_words("What changes in debt did Amazon disclose?", quoting=True) == ["borrowings"]
    assert report_words("What changes in debt did Amazon disclose?") == []


def test_hybrid_search_finds_the_line_a_report_prints_for_capex(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        chunks = [Chunk(i, t, i + 1, i + 1, 0, len(t), 8) for i, t in enumerate(TEXTS)]
        store.add_document(path="/docs/chips.pdf", sha256=hashlib.sha256(b"chips").hexdigest(), size=1, mtime=0.0,
                           pages=[Page(i + 1, t) for i, t in enumerate(TEXTS)], chunks=chunks,
                           vectors=EMB.embed(TEXTS), model_id=EMB.model_id)
        retriever = Retriever(store, EMB)
        hits = retriever.search("What was the capital expenditure?", k=3, mode="hybrid")
        assert hits and hits[0].page == 1
        # keyword mode searches the question's own words only
        literal = retriever.search("What was the capital expenditure?", k=3, mode="keyword")
        assert all(h.page != 1 for h in literal)


def test_a_quote_for_capex_is_the_additions_row_not_capitalized_interest() -> None:
    passages = [Passage(n, 1, "chips.pdf", "/d/chips.pdf", n, n, 0, len(t), (n,), t)
                for n, t in enumerate(TEXTS[:2], 1)]
    question = "What was the capital expenditure?"
    quotes = select_quotes(question, EMB.embed([question])[0], passages, EMB.embed,
                           lambda doc_id, page: TEXTS[page - 1])
    assert quotes and quotes[0].text.startswith("Additions to property, plant and equipment")


CERTIFICATION = ("EXHIBIT 32.1\nCERTIFICATION\nPursuant to Section 1350, Jane Roe, the President and Chief Executive "
                 "Officer of Acme Corporation, hereby certifies that the report complies.\n/s/ Jane Roe")
ACME = ["Acme Corporation quarterly report. Acme makes anvils and rockets for customers worldwide.",
        "Acme revenue grew as anvil demand rose. Acme leadership expects growth.", CERTIFICATION]


def test_a_question_about_the_ceo_finds_the_certification_that_names_one(tmp_path: Path) -> None:
    # the officers are named on signature and certification pages, which other questions rank down;
    # and reports write "Chief Executive Officer", not "CEO"
    with Store(tmp_path / "data") as store:
        chunks = [Chunk(i, t, i + 1, i + 1, 0, len(t), 8) for i, t in enumerate(ACME)]
        store.add_document(path="/docs/acme.pdf", sha256="c" * 64, size=1, mtime=0.0,
                           pages=[Page(i + 1, t) for i, t in enumerate(ACME)], chunks=chunks,
                           vectors=EMB.embed(ACME), model_id=EMB.model_id)
        hits = Retriever(store, EMB).search("Who is the CEO of Acme?", k=3, mode="hybrid")
        assert hits[0].page == 3
    passages = [Passage(n, 1, "acme.pdf", "/d/acme.pdf", n, n, 0, len(t), (n,), t) for n, t in enumerate(ACME, 1)]
    question = "Who is the CEO of Acme?"
    quotes = select_quotes(question, EMB.embed([question])[0], passages[::-1], EMB.embed,
                           lambda doc_id, page: ACME[page - 1], leave_out=frozenset({"acme"}))
    assert quotes and "Jane Roe, the President and Chief Executive Officer" in quotes[0].text
