"""Citation checking and attribution: which passage supports each sentence of an answer.

Small models rarely write ``[n]`` markers, and larger ones sometimes cite passages that were not
in the prompt. So markers are kept only when they point at a passage that was in the prompt, and
every sentence is also scored against every passage by embedding similarity and lexical overlap
(numbers count double: a figure that appears in the passage is strong evidence). A sentence whose
best score stays under the threshold is marked unsupported for the user to see.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from desktop_rag.core.text import query_terms, split_sentences
from desktop_rag.core.types import AnswerSentence, Citation, Passage

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
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
    numbers = {n.replace(",", "") for n in _NUMBER.findall(sentence)}
    passage_numbers = {n.replace(",", "") for n in _NUMBER.findall(passage)}
    hits = sum(1 for w in words if w in passage_words) + sum(1 for n in numbers if n in passage_numbers)
    return hits / (len(words) + len(numbers))


def attribute(
    answer: str,
    passages: Sequence[Passage],
    sentence_vectors: np.ndarray | None,
    passage_vectors: np.ndarray | None,
    threshold: float = SUPPORT_THRESHOLD,
) -> list[AnswerSentence]:
    """Score each sentence of ``answer`` against each passage; see the module docstring.

    ``sentence_vectors`` (one row per ``split_sentences(answer)``) and ``passage_vectors`` are
    normalized embeddings; pass ``None`` to rely on lexical overlap alone.
    """
    sentences = split_sentences(answer)
    numbers = [p.number for p in passages]
    result: list[AnswerSentence] = []
    for i, sentence in enumerate(sentences):
        valid = [n for n in cited_numbers(sentence) if n in numbers]
        if len(query_terms(strip_markers(sentence))) < MIN_CLAIM_WORDS:
            result.append(AnswerSentence(sentence, tuple(dict.fromkeys(valid)), True, 0.0))
            continue
        scores = [lexical_support(sentence, p.text) for p in passages]
        if sentence_vectors is not None and passage_vectors is not None and len(passages):
            cosine = passage_vectors @ sentence_vectors[i]
            scores = [0.5 * s + 0.5 * float(c) for s, c in zip(scores, cosine)]
        if not scores:
            result.append(AnswerSentence(sentence, (), False, 0.0))
            continue
        best = int(np.argmax(scores))
        cited_scores = [scores[numbers.index(n)] for n in valid]
        score = max(cited_scores) if cited_scores else scores[best]
        supported = max(scores) >= threshold
        chosen = tuple(dict.fromkeys(valid)) if valid else ((numbers[best],) if supported else ())
        result.append(AnswerSentence(sentence, chosen, supported, round(score, 4)))
    return result


def citation_from_passage(p: Passage) -> Citation:
    return Citation(number=p.number, file=p.file, path=p.path, page=p.page, chunk_id=p.chunk_ids[0], text=p.text,
                    start_offset=p.start_offset, end_offset=p.end_offset, page_end=p.page_end, doc_id=p.doc_id)


def citations_for(sentences: Sequence[AnswerSentence], passages: Sequence[Passage]) -> list[Citation]:
    """The passages the answer relies on, in passage-number order."""
    used = sorted({n for s in sentences for n in s.citations})
    by_number = {p.number: p for p in passages}
    return [citation_from_passage(by_number[n]) for n in used if n in by_number]
