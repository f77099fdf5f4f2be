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


RESULTS = """Table of Contents
Consolidated Condensed Results of Operations
Three Months Ended Nine Months Ended
Q3 2023 Q3 2022 YTD 2023 YTD 2022
Net revenue $ 14,158 100.0 % $ 15,338 100.0 % $ 38,822 100.0 % $ 49,012 100.0 %
Research and development 3,870 27.3 % 4,302 28.0 % 12,059 31.1 % 13,064 26.7 %
Net income (loss) 310 2.2 % 1,019 6.6 % (985) (2.5)% 8,678 17.7 %"""
SMALL_FIGURES = "\n".join(["April 30, January 29,", "2023 2023", "Other Assets: (In millions)"]
                          + [f"Prepaid item number {i} {100 + i} {200 + i}" for i in range(1, 10)]
                          + ["Total other assets $ 4,204 $ 3,820"])
DATED_CONTENTS = "\n".join(["INDEX", "Page", "PART I. FINANCIAL INFORMATION"]
                           + [f"{c}) Statements for the Three Months Ended September 30, 2023 and 2022 {i}"
                              for i, c in enumerate("abcdefgh", 3)])


def test_statement_and_table_pages_with_a_contents_link_are_not_boilerplate() -> None:
    # a running "Table of Contents" link and a figure of 31.1 % once read as an exhibit list's "31.1"
    assert not is_boilerplate(RESULTS)
    # table rows ending in two small figures once read as contents lines ending in page numbers
    assert not is_boilerplate(SMALL_FIGURES)
    # contents lines whose page number follows a year are still contents lines
    assert is_boilerplate(DATED_CONTENTS)
    assert is_boilerplate("Exhibit 31.1\nCERTIFICATION\nI, Jane Doe, certify that:\n/s/ Jane Doe")
