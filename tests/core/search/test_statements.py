"""Financial statements: a page titled as one is that statement's page, and a question that names
a statement finds its page in the documents it names (or in a library of a few documents)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fakes import HashEmbedder


from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.search.statements import statement_of_page, statements_asked
from desktop_rag.core.store import library as library_module
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, Page

EMB = HashEmbedder()


def test_a_page_titled_as_a_statement_is_that_statements_page() -> None:
    assert statement_of_page("Table of Contents\nAMAZON.COM, INC.\nCONSOLIDATED STATEMENTS OF OPERATIONS\n"
                             "(in millions)\nNet sales 134,383") == "income"
    assert statement_of_page("Consolidated Condensed Statements of Cash Flows\nCash, beginning 11,144") == "cash"
    assert statement_of_page("Group statement of financial position\nAs at 31 March 2023") == "balance"
    assert statement_of_page("CONDENSED CONSOLIDATED BALANCE SHEETS (Unaudited)\nASSETS") == "balance"
    assert statement_of_page("Consolidated Statements of Stockholders' Equity\nBalance, beginning") == "equity"
    # a company's name before the title, and IFRS wording
    assert statement_of_page("3M Company and Subsidiaries Consolidated Statement of Income\nYears ended") == "income"
    assert statement_of_page("AMAZON.COM, INC. CONSOLIDATED STATEMENTS OF CASH FLOWS\n(in millions)") == "cash"
    assert statement_of_page("Statement of profit or loss and other comprehensive income\nRevenue 1,200") == "income"
    assert statement_of_page("See the notes to the condensed consolidated balance sheets") == ""
    # a note about a statement, or prose that mentions one, is not the statement
    assert statement_of_page("Amounts Offset in the Consolidated Condensed Balance Sheets\nAgreements") == ""
    assert statement_of_page("Revenue is recognised as shown in the consolidated statements of operations.") == ""
    assert statement_of_page("Risk Factors\n" + "line\n" * 9 + "Consolidated Balance Sheets") == ""


def test_the_statements_a_question_names() -> None:
    assert statements_asked("Relying on the details shown in the cash flow statement, what was capex?") == {"cash"}
    assert statements_asked("What was the largest liability in the balance sheet?") == {"balance"}
    assert statements_asked("From the income statement and the P&L, what was revenue?") == {"income"}
    assert statements_asked("How much cash flowed out?") == frozenset()
    # the level of a stock (inventory, cash, debt) is a balance, read on the balance sheet
    assert statements_asked("How have Apple's inventory levels changed across these quarters?") == {"balance"}
    assert statements_asked("Did the level of cash fall?") == {"balance"}
    assert statements_asked("How did staffing levels change?") == frozenset()


PAGES = {
    "ACME_2022_AnnualReport.pdf": [
        "ACME Corporation annual report 2022",
        "Capital expenditures: we expect capital expenditures to grow next year as we build plants.",
        "Consolidated Statements of Cash Flows\nPurchases of property and equipment (1,234)\n"
        "Net cash used in investing activities (1,500)"],
    "BOLT_2022_AnnualReport.pdf": [
        "BOLT Incorporated annual report 2022",
        "Capital expenditures at BOLT were modest.",
        "Consolidated Balance Sheets\nTotal assets 9,000"],
}


def build(tmp_path: Path) -> Store:
    store = Store(tmp_path / "data")
    for name, texts in PAGES.items():
        chunks = [Chunk(i, t, i + 1, i + 1, 0, len(t), 8) for i, t in enumerate(texts)]
        store.add_document(path=f"/docs/{name}", sha256=hashlib.sha256(name.encode()).hexdigest(), size=1,
                           mtime=0.0, pages=[Page(i + 1, t) for i, t in enumerate(texts)], chunks=chunks,
                           vectors=EMB.embed(texts), model_id=EMB.model_id)
    return store


def test_a_question_naming_a_statement_finds_its_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library_module, "ID_BATCH", 2)  # a document's chunk ids read in several queries
    with build(tmp_path) as store:
        retriever = Retriever(store, EMB)
        plain = retriever.search("What were ACME's capital expenditures in 2022?", k=3, mode="hybrid")
        assert plain[0].page != 3  # the statement says neither "capital" nor "expenditures"
        asked = retriever.search("What were ACME's capital expenditures in 2022, as the cash flow statement "
                                 "shows?", k=3, mode="hybrid")
        assert (asked[0].file, asked[0].page) == ("ACME_2022_AnnualReport.pdf", 3)
        # in a library of a few documents, a question that names none still finds the statements
        both = retriever.search("Which assets does the balance sheet show?", k=3, mode="hybrid")
        assert (both[0].file, both[0].page) == ("BOLT_2022_AnnualReport.pdf", 3)
        # within a scope, only the scope's statements
        acme = next(d.id for d in store.documents() if d.name.startswith("ACME"))
        scoped = retriever.search("Which assets does the balance sheet show?", k=3, mode="hybrid", scope=[acme])
        assert {h.file for h in scoped} == {"ACME_2022_AnnualReport.pdf"}


def test_the_statement_a_question_names_outranks_a_page_that_tops_both_rankings(tmp_path: Path) -> None:
    # "Microsoft's inventory levels": a note on inventory topped the filing's dense and keyword rankings
    # alike, and the balance sheet, whose row says little the question asks, stayed below it
    acme = ["ACME Corporation quarterly report",
            "Inventory levels: we review inventory levels and inventory management every quarter.",
            "Consolidated Balance Sheets\nStock on hand 3,000 2,500\nTotal assets 9,000"]
    bolt = ["BOLT Incorporated quarterly report", "BOLT sells bolts and nuts to builders."]
    with Store(tmp_path / "data") as store:
        for name, texts in (("ACME_Q3.pdf", acme), ("BOLT_Q3.pdf", bolt)):
            store.add_document(path=f"/docs/{name}", sha256=hashlib.sha256(name.encode()).hexdigest(), size=1,
                               mtime=0.0, pages=[Page(i + 1, t) for i, t in enumerate(texts)],
                               chunks=[Chunk(i, t, i + 1, i + 1, 0, len(t), 8) for i, t in enumerate(texts)],
                               vectors=EMB.embed(texts), model_id=EMB.model_id)
        top = Retriever(store, EMB).search("How have ACME's inventory levels changed?", k=3, mode="hybrid")[0]
        assert (top.file, top.page) == ("ACME_Q3.pdf", 3)


def test_statement_pages_are_found_by_their_own_numbers(tmp_path: Path) -> None:
    # pages numbered 2, 5 and 9 (the blank ones between were not stored): the statement is page 5
    texts = {2: "ACME Corporation annual report 2022", 5: PAGES["ACME_2022_AnnualReport.pdf"][2],
             9: "Capital expenditures: we expect capital expenditures to grow as we build plants."}
    chunks = [Chunk(i, t, n, n, 0, len(t), 8) for i, (n, t) in enumerate(texts.items())]
    with Store(tmp_path / "data") as store:
        store.add_document(path="/docs/ACME_2022.pdf", sha256="a" * 64, size=1, mtime=0.0,
                           pages=[Page(n, t) for n, t in texts.items()], chunks=chunks,
                           vectors=EMB.embed(list(texts.values())), model_id=EMB.model_id)
        hits = Retriever(store, EMB).search("What were ACME's capital expenditures in 2022, as the cash flow "
                                            "statement shows?", k=3, mode="hybrid")
        assert hits[0].page == 5


def test_in_a_library_of_two_a_clearly_named_document_is_named(tmp_path: Path) -> None:
    # a third of two documents is less than one: the rule "a third of the library nearly tied
    # names none" once kept every question in a library of two or three from naming a document
    with build(tmp_path) as store:
        retriever = Retriever(store, EMB)
        acme = next(d.id for d in store.documents() if d.name.startswith("ACME"))
        assert retriever.named_documents("What did ACME spend on plants?") == [acme]
        assert retriever.named_documents("What was spent on plants in 2022?") == []  # both say 2022
