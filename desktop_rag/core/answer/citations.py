"""Citation checking and attribution: which passage supports each sentence of an answer.

Small models rarely write ``[n]`` markers, and larger ones sometimes cite passages that were not
in the prompt. So markers are kept only when they point at a passage that was in the prompt, and
every sentence is also scored against every passage by embedding similarity and lexical overlap
(numbers count double: a figure that appears in the passage is strong evidence). A sentence whose
best score stays under the threshold is marked unsupported for the user to see.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from desktop_rag.core.answer.quotes import asks_for_amount
from desktop_rag.core.answer.units import amount_stated, amounts_in, states_an_amount_of, stated_units
from desktop_rag.core.text import figures_in, query_terms, split_sentences, stated_numbers
from desktop_rag.core.types import AnswerSentence, Citation, Passage, Quote

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
SUPPORT_THRESHOLD = 0.45
MIN_CLAIM_WORDS = 3


def cited_numbers(sentence: str) -> list[int]:
    numbers: list[int] = []
    for match in MARKER.finditer(sentence):
        numbers.extend(int(n) for n in re.findall(r"\d+", match.group(1)))
    return numbers


def strip_markers(sentence: str) -> str:
    return MARKER.sub("", sentence).strip()


def lexical_support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words (numbers twice) found in the passage."""
    words = query_terms(strip_markers(sentence))
    if not words:
        return 0.0
    passage_words = set(query_terms(passage))
    numbers = figures_in(strip_markers(sentence))
    passage_numbers = figures_in(passage)
    hits = sum(1 for w in words if w in passage_words) + sum(1 for n in numbers if n in passage_numbers)
    return hits / (len(words) + len(numbers))


def unsupported_figures(sentence: str, known: set[str], near: set[str] | None = None) -> set[str]:
    """Figures the sentence states that appear in none of ``known`` (the passages' and the
    question's figures, normalized); single digits are left out (list numbers, "one of 3 ...").
    With ``near`` (the figures of the question and of the passages the sentence cites), a two-digit
    figure must be there: some passage of a report holds almost any small number (a page, a note, a
    percentage), so finding one anywhere proves nothing ("The answer is: 14", under a quoted
    "Long-term debt 9,704 9,703", passed as supported because a note on another page was 14)."""
    stated = {f for f in stated_numbers(strip_markers(sentence)) if len(f) > 1 or "." in f}
    if near is None:
        return stated - known
    small = {f for f in stated if f.isdigit() and len(f) == 2}
    return (stated - small - known) | (small - near)


@dataclass(frozen=True, slots=True)
class _Figures:
    """The figures an answer may state: the question's, each passage's by its number, and all of them."""

    asked: set[str]
    by_passage: dict[int, set[str]]
    known: set[str]
    lines: tuple[tuple[str, str], ...]  # each passage's text, twice: it states its table's unit ("In millions")

    @classmethod
    def of(cls, question: str, passages: Sequence[Passage]) -> "_Figures":
        by_passage: dict[int, set[str]] = {}
        for p in passages:
            by_passage.setdefault(p.number, set()).update(stated_numbers(p.text))
        asked = stated_numbers(question)
        return cls(asked, by_passage, asked.union(*by_passage.values()), tuple((p.text, p.text) for p in passages))

    def unsupported(self, sentence: str, citations: Sequence[int]) -> set[str]:
        """:func:`unsupported_figures`, less those a passage states in another unit ("$14.2 billion"
        for "14,158" in a table in millions)."""
        missing = unsupported_figures(sentence, self.known, self.near(citations))
        units = stated_units(strip_markers(sentence)) if missing else {}
        return {f for f in missing if not (f in units and amount_stated(f, units[f], self.lines))}

    def near(self, citations: Sequence[int]) -> set[str]:
        """The question's figures and those of the cited passages."""
        return self.asked.union(*(self.by_passage.get(n, set()) for n in citations))


def attribute(
    answer: str,
    passages: Sequence[Passage],
    sentence_vectors: np.ndarray | None,
    passage_vectors: np.ndarray | None,
    threshold: float = SUPPORT_THRESHOLD,
    question: str = "",
    quotes: Sequence[Quote] = (),
) -> list[AnswerSentence]:
    """Score each sentence of ``answer`` against each passage; see the module docstring.

    ``sentence_vectors`` (one row per ``split_sentences(answer)``) and ``passage_vectors`` are
    normalized embeddings; pass ``None`` to rely on lexical overlap alone. A sentence stating a
    figure found in no passage (nor in the ``question``) is unsupported, however well it scores:
    an invented "$14.51 billion" reads just like a quoted one; so is one stating a two-digit figure
    that no passage it cites holds. With ``quotes``, supported sentences are also checked against
    them (:func:`with_unquoted`).
    """
    figures = _Figures.of(question, passages)
    return with_unquoted(question, [_attribute_one(i, sentence, passages, sentence_vectors, passage_vectors,
                                                   threshold, figures)
                                    for i, sentence in enumerate(split_sentences(answer))], quotes)


def with_unquoted(question: str, sentences: Sequence[AnswerSentence], quotes: Sequence[Quote]) -> list[AnswerSentence]:
    """``sentences``, those that state amounts and none that the quotes state marked ``unquoted``, when
    the question asks for an amount and a quote states one. A small model's figure is often in some
    passage and still the wrong one: "a net cash flow of $121,234" (net sales) under the quoted
    "Operating activities $ 8,965 $ 16,476"; "$1.5 billion" (a segment's) for Intel's net revenue
    quoted as "14,158" in millions. Of 32 SEC figure answers stored by an earlier run, it marks 15 of
    the 30 wrong ones and neither right one."""
    if not asks_for_amount(question) or not any(amounts_in(q.text) for q in quotes):
        return list(sentences)
    lines = [(q.text, q.context) for q in quotes]
    return [dataclasses.replace(s, unquoted=True) if s.supported and states_an_amount_of(s.text, lines) is False
            else s for s in sentences]


def _attribute_one(i: int, sentence: str, passages: Sequence[Passage], sentence_vectors: np.ndarray | None,
                   passage_vectors: np.ndarray | None, threshold: float, figures: _Figures) -> AnswerSentence:
    found = _support(i, sentence, passages, sentence_vectors, passage_vectors, threshold)
    if found.supported and figures.unsupported(sentence, found.citations):
        return AnswerSentence(found.text, found.citations, False, found.score)
    return found


def _support(i: int, sentence: str, passages: Sequence[Passage], sentence_vectors: np.ndarray | None,
             passage_vectors: np.ndarray | None, threshold: float) -> AnswerSentence:
    numbers = [p.number for p in passages]
    valid = tuple(dict.fromkeys(n for n in cited_numbers(sentence) if n in numbers))
    if len(query_terms(strip_markers(sentence))) < MIN_CLAIM_WORDS:
        return AnswerSentence(sentence, valid, True, 0.0)
    scores = [lexical_support(sentence, p.text) for p in passages]
    if sentence_vectors is not None and passage_vectors is not None and len(passages):
        cosine = passage_vectors @ sentence_vectors[i]
        scores = [0.5 * s + 0.5 * float(c) for s, c in zip(scores, cosine)]
    if not scores:
        return AnswerSentence(sentence, (), False, 0.0)
    best = int(np.argmax(scores))
    cited_scores = [scores[numbers.index(n)] for n in valid]
    score = max(cited_scores) if cited_scores else scores[best]
    supported = max(scores) >= threshold
    chosen = valid if valid else ((numbers[best],) if supported else ())
    return AnswerSentence(sentence, chosen, supported, round(score, 4))


def citation_from_passage(p: Passage) -> Citation:
    return Citation(number=p.number, file=p.file, path=p.path, page=p.page,
                    chunk_id=p.chunk_ids[0] if p.chunk_ids else 0, text=p.text,
                    start_offset=p.start_offset, end_offset=p.end_offset, page_end=p.page_end, doc_id=p.doc_id,
                    label=p.label)


def citations_for(sentences: Sequence[AnswerSentence], passages: Sequence[Passage]) -> list[Citation]:
    """The passages the answer relies on, in passage-number order."""
    used = sorted({n for s in sentences for n in s.citations})
    by_number = {p.number: p for p in passages}
    return [citation_from_passage(by_number[n]) for n in used if n in by_number]
