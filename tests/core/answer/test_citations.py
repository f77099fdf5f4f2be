"""Sentence splitting, marker checks and attribution of answer sentences to passages."""

from __future__ import annotations

import numpy as np

from desktop_rag.core.answer.citations import attribute, cited_numbers, citations_for, lexical_support, strip_markers
from desktop_rag.core.text import split_sentences
from desktop_rag.core.types import Passage

PASSAGES = [
    Passage(1, 1, "acme.pdf", "/d/acme.pdf", 4, 4, 10, 80, (11,), "Net sales were $82,959 million in the third quarter."),
    Passage(2, 2, "bolt.pdf", "/d/bolt.pdf", 7, 7, 0, 60, (12,), "The company employs 300 engineers in Ohio."),
]


def test_split_sentences_handles_lists_and_abbreviation_free_text() -> None:
    text = "Sales rose [1]. Costs fell.\n- Item one\n- Item two"
    assert split_sentences(text) == ["Sales rose [1].", "Costs fell.", "- Item one", "- Item two"]


def test_markers() -> None:
    assert cited_numbers("Sales rose [1] and costs fell [2, 3].") == [1, 2, 3]
    assert strip_markers("Sales rose [1].") == "Sales rose ."


def test_lexical_support_counts_numbers() -> None:
    strong = lexical_support("Net sales were $82,959 million.", PASSAGES[0].text)
    weak = lexical_support("Net sales were $99,999 million.", PASSAGES[0].text)
    assert strong > weak > 0
    assert lexical_support("Penguins live in Antarctica.", PASSAGES[0].text) == 0.0


def test_attribution_without_markers_finds_the_right_passage() -> None:
    answer = "Net sales were $82,959 million in the quarter. The company employs 300 engineers. Penguins dance at night."
    sentences = attribute(answer, PASSAGES, None, None)
    assert [s.citations for s in sentences] == [(1,), (2,), ()]
    assert [s.supported for s in sentences] == [True, True, False]


def test_marker_to_a_passage_not_in_the_prompt_is_ignored() -> None:
    sentences = attribute("Net sales were $82,959 million [9].", PASSAGES, None, None)
    assert sentences[0].citations == (1,)  # replaced by the attributed passage


def test_valid_marker_is_kept() -> None:
    sentences = attribute("The company employs 300 engineers in Ohio [2].", PASSAGES, None, None)
    assert sentences[0].citations == (2,) and sentences[0].supported


def test_embeddings_contribute_to_support() -> None:
    answer = "Revenue grew large overall."
    sentence_vectors = np.array([[1.0, 0.0]], dtype=np.float32)
    passage_vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    with_vectors = attribute(answer, PASSAGES, sentence_vectors, passage_vectors)
    assert with_vectors[0].citations == (1,) and with_vectors[0].supported


def test_short_filler_is_neither_claim_nor_citation() -> None:
    sentences = attribute("Sure thing.", PASSAGES, None, None)
    assert sentences[0].supported and sentences[0].citations == ()


def test_citations_for_lists_used_passages_once_in_order() -> None:
    sentences = attribute("The company employs 300 engineers. Net sales were $82,959 million. Net sales again $82,959.",
                          PASSAGES, None, None)
    cites = citations_for(sentences, PASSAGES)
    assert [(c.number, c.file, c.page, c.chunk_id) for c in cites] == [(1, "acme.pdf", 4, 11), (2, "bolt.pdf", 7, 12)]


def test_a_figure_no_passage_holds_marks_its_sentence_unsupported() -> None:
    from desktop_rag.core.answer.citations import attribute, unsupported_figures

    passages = [Passage(number=1, doc_id=1, file="a.pdf", path="/a.pdf", page=1, page_end=1, start_offset=0,
                        end_offset=60, chunk_ids=(1,), text="Net revenue was $14,320 million in the quarter of 2023.")]
    right, wrong = attribute("Net revenue was $14,320 million in 2023 [1]. Net revenue was $14.51 billion [1].",
                             passages, None, None, question="What was net revenue in 2023?")
    assert right.supported and right.citations == (1,)
    assert not wrong.supported
    assert unsupported_figures("It rose 3 times to 14.51 in 2023 [1].", {"2023"}) == {"14.51"}


def test_a_figure_a_passage_states_in_another_unit_is_supported() -> None:
    from desktop_rag.core.answer.citations import attribute

    text = "(In Millions) Three Months Ended Q3 2023 Q3 2022\nNet revenue $ 14,158 $ 15,338\nGross margin 6,025 6,803"
    passages = [Passage(number=1, doc_id=1, file="intc.pdf", path="/intc.pdf", page=4, page_end=4, start_offset=0,
                        end_offset=len(text), chunk_ids=(1,), text=text)]
    answer = "Net revenue was $14.2 billion in Q3 2023 [1]. Net revenue was $14.9 billion in Q3 2023 [1]."
    right, wrong = attribute(answer, passages, None, None, question="What was Intel's net revenue in Q3 2023?")
    assert right.supported and not wrong.supported


def test_a_version_or_code_no_passage_states_marks_its_sentence_unsupported() -> None:
    from desktop_rag.core.answer.citations import attribute

    text = "This manual is for GNU Libtasn1 (version 4.19.0, 18 August 2022). Case-sensitive globs set 0x100."
    passages = [Passage(number=1, doc_id=1, file="libtasn1.pdf", path="/libtasn1.pdf", page=2, page_end=2,
                        start_offset=0, end_offset=len(text), chunk_ids=(1,), text=text)]
    answer = ("This manual is for GNU Libtasn1 version 4.19.0 [1]. This manual is for GNU Libtasn1 version 4.20.1 [1]. "
              "Case-sensitive globs set 0x200 [1].")
    question = "Which libtasn1 release does the manual describe?"
    right, wrong, code = attribute(answer, passages, None, None, question=question)
    assert right.supported
    assert not wrong.supported and not code.supported


def test_a_two_digit_figure_counts_only_from_a_passage_the_sentence_cites() -> None:
    # some passage of a report holds almost any small number: "The answer is: 14" under a quoted
    # "Long-term debt 9,704 9,703" passed as supported because a note on another page said 14
    passages = [Passage(1, 1, "nvda.pdf", "/d/nvda.pdf", 5, 5, 0, 40, (1,), "Long-term debt 9,704 9,703"),
                Passage(2, 1, "nvda.pdf", "/d/nvda.pdf", 14, 14, 0, 60, (2,), "Note 14 - Segment Information"),
                Passage(3, 1, "nvda.pdf", "/d/nvda.pdf", 30, 30, 0, 70, (3,),
                        "Our effective tax rate was 12% for the quarter, down from 19% a year ago.")]
    question = "How much long-term debt did NVIDIA have?"
    short, = attribute("The answer is: 14.", passages, None, None, question=question)
    assert not short.supported
    rate, = attribute("The effective tax rate was 12% for the quarter.", passages, None, None, question=question)
    assert rate.supported and rate.citations == (3,)
    cited, = attribute("It was 12 [3].", passages, None, None, question=question)
    assert cited.supported
    asked, = attribute("Yes, 14.", passages, None, None, question="Is note 14 about segments?")
    assert asked.supported
