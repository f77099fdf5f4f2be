"""Contents pages, signature pages and exhibit lists are recognised; pages with answers are not."""

from __future__ import annotations

from desktop_rag.core.search.boilerplate import asks_for_boilerplate, is_boilerplate

CONTENTS = "\n".join(["TABLE OF CONTENTS", "Page"] + [f"Item {i}. Section title number {i} ..... {i * 3}"
                                                       for i in range(1, 12)])
SIGNATURES = """SIGNATURE
Pursuant to the requirements of the Securities Exchange Act of 1934, the Registrant has duly caused
this report to be signed on its behalf by the undersigned thereunto duly authorized.
/s/ Jane Doe
Jane Doe, Chief Financial Officer"""
EXHIBITS = """Exhibit Number Exhibit Description
31.1 Rule 13a-14(a) / 15d-14(a) Certification of Chief Executive Officer
32.1 Section 1350 Certifications
101 Inline XBRL Document Set"""
SUBSIDIARIES = """EXHIBIT 21
SUBSIDIARIES OF PEPSICO, INC.
Name of Subsidiary Jurisdiction of Incorporation
Bottling Group Holdings LLC Delaware
PepsiCo Mexico S. de R.L. de C.V. Mexico
PepsiCo Deutschland GmbH Germany"""
INCOME = """CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS
Three Months Ended June 25, 2022
Net sales: Products $ 63,355 Services 19,604
Total net sales 82,959
Cost of sales 47,074
Gross margin 35,885
Operating expenses: Research and development 6,797
Selling, general and administrative 6,012
Total operating expenses 12,809
Operating income 23,076"""


def test_boilerplate_pages_are_recognised() -> None:
    assert is_boilerplate(CONTENTS)
    assert is_boilerplate(SIGNATURES)
    assert is_boilerplate(EXHIBITS)
    assert is_boilerplate(SUBSIDIARIES)  # by its title alone
    assert is_boilerplate("Table of Contents\nList of Subsidiaries\nAcme GmbH Germany")


def test_a_page_about_subsidiaries_is_not_titled_as_their_list() -> None:
    assert not is_boilerplate("Our subsidiaries in Europe grew sales by 4%.\nSubsidiaries of this size are rare.")
    assert not is_boilerplate("Results of operations\n" + "line\n" * 6 + "Exhibit 21")


def test_pages_with_figures_and_prose_are_not_boilerplate() -> None:
    assert not is_boilerplate(INCOME)
    assert not is_boilerplate("Revenue rose 12% as demand for cloud services grew in every region.")
    assert not is_boilerplate("")


def test_questions_about_signatures_or_exhibits_ask_for_them() -> None:
    assert asks_for_boilerplate({"signed", "report"}) and not asks_for_boilerplate({"revenue"})
