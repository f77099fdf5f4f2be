"""Which documents a question is about, as graded scores.

A question names its documents the way people do: by company or product ("Apple", "American
Express"), by period ("Q2 2023", "the second quarter of 2023"), or by recency ("the latest
report"). None of these need appear in the file name, so each document gets a *label*: its file
name split into words (``AMERICANEXPRESS_2022_10K`` -> american express 2022 10k), its title, and
the start of its first page, where reports, filings and papers print who wrote them, about what
and when (the cover of a 10-Q says "Microsoft Corporation", its ticker "MSFT" and the period). Of
the first page only its short lines and the words written as names count: a book's first page
that opens its introduction in running prose does not name the book for every word it uses.

Scores are document-level IDF: a word found in few labels counts much, one in every label
nothing. A label word other than a date or period names nothing when half the documents or more
use it in their text: a cover that opens an introduction holds "use" and "type"; a word of the
first page (not of the file name or title) names its document only when its text uses the word
three times as often as the rest of the library. Words concentrated in few documents' text count too
(``idf * log(1 + passages)``), at a third of the weight of label words; when the question names no
document by its label and several documents' text dwell on its words alike, only the words it
writes as names ("iPhone", "AWS") count: "links" or "compiled" in several books is a topic, not a
name. A quarter written with its year ("Q3 2022", "the third quarter of 2023") names the reports
whose labels say both, and no report labelled with another quarter. A question that asks for the
latest or most recent document, with several documents nearly tied, prefers the one whose first page
carries the latest date.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from desktop_rag.core.text import query_terms
from desktop_rag.core.types import DocumentProfile

LABEL_WEIGHT = 3.0  # a word of the document's label counts three times a concentrated word of its text
COVER_CHARS = 1500  # how much of the first page joins the label
TITLE_LINE_WORDS = 8  # a line of the first page this short names its document in full (a title, a name)
NAMED_MAX_SHARE = 1 / 3  # a word found in a third of the documents' text names none of them
MIN_CONCENTRATED = 3  # passages of a document that must hold a word of its text for the word to name it
CONCENTRATED_SHARE = 0.03  # ... and this share of its passages: "iPhone" in an Apple 10-Q, not "behaviour" in a book
COVER_CONCENTRATION = 3.0  # a first page's word names its document when its text uses it 3x as often as the rest
CONTENT_LEAD_SHARE = 0.5  # documents named by their text alone: those within this share of the best lead
TIE_SHARE = 0.85  # documents within this share of the best are "nearly tied" for recency
RECENCY_BONUS = 1.1  # the newest of the tied documents then scores this much above the best

_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_DATE_WORDS = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_DATE_NUMBERS = re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")
_DATE_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_RECENT = re.compile(r"\b(?:latest|most recent|newest|last|current|recent)\b", re.IGNORECASE)
_RECENT_PERIODS = re.compile(r"\b(?:latest|most recent|newest|last|recent|past)\s+(?:\w+\s+)?"
                             r"(?:quarters|years|periods|months|reports|filings|statements|10-qs|10-ks)\b",
                             re.IGNORECASE)
# a question that also looks back: "... compared to previous quarters", "its historical tax rates", "the trend"
_EARLIER = re.compile(r"\b(?:previous|prior|earlier|past|preceding|histor(?:y|ic|ical)|trends?|over time|"
                      r"year[- ]over[- ]year|other (?:quarters|years|periods|reports|filings|versions))\b",
                      re.IGNORECASE)
_ORDINALS = {"first": "q1", "second": "q2", "third": "q3", "fourth": "q4",
             "1st": "q1", "2nd": "q2", "3rd": "q3", "4th": "q4"}
_QUARTER = re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:fiscal\s+)?quarter\b", re.IGNORECASE)
# a quarter and its year written together: "Q3 2022", "2023 Q3", "the third quarter of fiscal 2023", "Q2 FY23"
_QUARTER_YEAR = re.compile(
    r"\b(?:(q[1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:fiscal\s+)?quarter)"
    r"(?:\s+of)?(?:\s+(?:the\s+)?(?:fiscal\s+)?(?:year\s+)?)?\s*(?:fy\s*'?(\d\d(?:\d\d)?)|'(\d\d)|((?:19|20)\d\d))\b"
    r"|\b((?:19|20)\d\d)\s+(q[1-4])\b", re.IGNORECASE)
_QUARTERS = frozenset({"q1", "q2", "q3", "q4"})
_FISCAL_YEAR = re.compile(r"\b(?:fy|fiscal(?:\s+year)?)\s*'?((?:19|20)\d\d|\d\d)(?!\d)", re.IGNORECASE)
_PERIOD_WORD = re.compile(r"^(?:(?:19|20)\d\d|q[1-4]|fy\d*|" + "|".join(_MONTHS) + r")$")
_SEPARATORS = re.compile(r"[_\-.+]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=\d)(?=[A-Za-z])")  # also 2023|Q2


def split_file_name(stem: str, vocabulary: frozenset[str] = frozenset()) -> list[str]:
    """Words of a file name as a user would write them.

    Underscores, dashes and dots separate words; camel case and letters meeting digits too
    (``AnnualReport``, ``2023Q2``), keeping the joined form as well (``2023Q2`` -> 2023, q2, 2023q2). A joined
    word (``AMERICANEXPRESS``) is split into two words of ``vocabulary`` when it is exactly two
    of them; both the joined and the split forms are kept, so either spelling matches.
    """
    words: list[str] = []
    for part in _SEPARATORS.sub(" ", stem).split():
        pieces = _CAMEL.sub(" ", part).split()
        if len(pieces) > 1:
            words.extend(p.lower() for p in pieces if len(p) > 1)  # not the "m" of "3M" alone
            words.append(part.lower())
            continue
        words.append(part.lower())
        if vocabulary and part.isalpha() and len(part) >= 6:
            words.extend(_two_words(part.lower(), vocabulary))
    return words


def _two_words(joined: str, vocabulary: frozenset[str]) -> list[str]:
    for cut in range(3, len(joined) - 2):
        if joined[:cut] in vocabulary and joined[cut:] in vocabulary:
            return [joined[:cut], joined[cut:]]
    return []


def document_date(text: str) -> datetime.date | None:
    """The latest full date written in ``text`` ("July 1, 2023", "10/24/2023", "2023-07-01")."""
    found: list[datetime.date] = []
    for month, day, year in _DATE_WORDS.findall(text):
        found.extend(_date(int(year), _MONTHS[month.lower()], int(day)))
    for month, day, year in _DATE_NUMBERS.findall(text):
        found.extend(_date(int(year), int(month), int(day)))
    for year, month, day in _DATE_ISO.findall(text):
        found.extend(_date(int(year), int(month), int(day)))
    return max(found, default=None)


def _date(year: int, month: int, day: int) -> list[datetime.date]:
    try:
        return [datetime.date(year, month, day)]
    except ValueError:
        return []


def naming_query(question: str) -> str:
    """The question with spelled-out quarters added in short form ("second quarter" -> q2) and
    fiscal years as plain years ("FY2018", "FY 23", "fiscal year 2022" -> 2018, 2023, 2022): file
    names and covers say "3M_2018_10K" and "For the fiscal year ended December 31, 2018"."""
    extra = [_ORDINALS[m.lower()] for m in _QUARTER.findall(question)]
    extra += [year if len(year) == 4 else f"20{year}" for year in _FISCAL_YEAR.findall(question)]
    return " ".join([question, *extra]) if extra else question


def named_periods(question: str) -> list[tuple[str, str]]:
    """The quarters the question names with their year, as label words: "Q3 2022" and "the third
    quarter of fiscal 2023" -> ("q3", "2022"), ("q3", "2023")."""
    periods = []
    for q, ordinal, fiscal, short, year, year_first, q_after in _QUARTER_YEAR.findall(question):
        quarter = (q or q_after).lower() or _ORDINALS[ordinal.lower()]
        written = fiscal or short or year or year_first
        periods.append((quarter, written if len(written) == 4 else f"20{written}"))
    return periods


def asks_for_latest(question: str) -> bool:
    """Whether the question asks for the newest document ("the latest 10-Q", also "... relative to
    past quarters"), not only for several recent periods ("over the last quarters", "in recent
    years", "the last three filings")."""
    return bool(_RECENT.search(_RECENT_PERIODS.sub(" ", question)))


def asks_for_latest_only(question: str) -> bool:
    """Whether the question asks about the newest document alone ("the gross margin in the latest
    10-Q"), not also about earlier ones ("... compared to previous quarters", "historical rates")."""
    return asks_for_latest(question) and not _EARLIER.search(question)


@dataclass(frozen=True, slots=True)
class _Label:
    words: frozenset[str]  # every word of its file name, title and cover
    names: frozenset[str]  # those that name it (see :func:`cover_names`): the ones a question's words score on
    date: datetime.date | None
    given: frozenset[str]  # the words of its file name and title: names given to it, not read off a page


@functools.lru_cache(maxsize=4096)  # a profile is a value: its label never goes stale
def label_of(profile: DocumentProfile) -> _Label:
    cover = profile.cover[:COVER_CHARS]
    vocabulary = frozenset(query_terms(cover))
    stem = profile.name.rsplit(".", 1)[0]
    named = set(split_file_name(stem, vocabulary)) | set(query_terms(profile.title))
    words = named | set(query_terms(cover))
    names = named | cover_names(cover)
    words.discard("pdf")
    names.discard("pdf")
    return _Label(frozenset(words), frozenset(names), document_date(f"{profile.title} {cover}"), frozenset(named))


def cover_names(cover: str) -> set[str]:
    """The words of a first page that name its document: every word of its short lines (titles,
    "Apple Inc.", "FORM 10-Q", "For the quarterly period ended July 1, 2023"), and in longer lines
    the words written as names (capitalised, or in capitals, after the start of a sentence) and
    figures. The running prose of a book's first page ("Compilers take your source code and
    produce ... a library") named that book for any question about a library."""
    words: set[str] = set()
    for line in cover.splitlines():
        tokens = line.split()
        if len(tokens) <= TITLE_LINE_WORDS:
            words.update(query_terms(line))
            continue
        if _capitalised(tokens[0]) and _capitalised(tokens[1]):  # a line that opens on a name: "Apple Inc. (Exact ..."
            words.update(query_terms(tokens[0]))
        for before, token in zip(tokens, tokens[1:]):
            named = _capitalised(token) and not _ends_sentence(before)
            if named or token.isupper() or any(c.isdigit() for c in token):
                words.update(query_terms(token))
    return words


def _several_lead(scores: Mapping[int, float]) -> bool:
    best = max(scores.values(), default=0.0)
    return sum(1 for s in scores.values() if s >= CONTENT_LEAD_SHARE * best) > 1


def written_as_names(text: str) -> list[str]:
    """The words of ``text`` written as names: capitalised after a sentence's first word ("iPhone",
    "Azure", "the AWS segment"), in capitals, in mixed case, or holding a digit ("libtasn1")."""
    tokens = text.split()
    words: list[str] = []
    for i, token in enumerate(tokens):
        core = token.strip("([\"'“‘’”)]?!.,;:")
        starts = i == 0 or _ends_sentence(tokens[i - 1])
        mixed = any(c.isupper() for c in core[1:]) and any(c.islower() for c in core)
        if (_capitalised(token) and not starts) or mixed or (len(core) > 1 and core.isupper()) \
                or any(c.isdigit() for c in core):
            words.extend(query_terms(token))
    return words


def _ends_sentence(token: str) -> bool:
    return token.endswith((".", "!", "?", ":"))


def _capitalised(token: str) -> bool:
    return token.lstrip("([\"'“‘")[:1].isupper()


def document_scores(question: str, profiles: Sequence[DocumentProfile],
                    term_document_counts: Callable[[str], Mapping[int, int]]) -> dict[int, float]:
    """{doc id: score > 0} for the documents the question's words point at."""
    terms = query_terms(naming_query(question))
    if not terms or len(profiles) < 2:
        return {}
    labels = {p.doc_id: label_of(p) for p in profiles}
    sizes = {p.doc_id: p.passages for p in profiles}
    named = {t: _named_by(t, labels, sizes, term_document_counts) for t in terms
             if _may_name(t, labels, term_document_counts)}
    periods = named_periods(question)
    scores = _label_scores(_with_periods(named, periods, labels), labels)
    content = _content_scores(terms, sizes, term_document_counts)
    if not any(scores.values()) and _several_lead(content):
        content = _content_scores(written_as_names(question), sizes, term_document_counts)
    for doc_id, score in content.items():
        scores[doc_id] = scores.get(doc_id, 0.0) + score
    ruled_out = _other_periods(periods, labels)
    scores = {d: s for d, s in scores.items() if s > 0 and d not in ruled_out}
    if scores and asks_for_latest(question):
        _prefer_newest(scores, labels)
    return scores


def label_words(profiles: Sequence[DocumentProfile], doc_ids: Iterable[int]) -> frozenset[str]:
    """The words of these documents' labels."""
    wanted = set(doc_ids)
    return frozenset().union(*(label_of(p).words for p in profiles if p.doc_id in wanted))


def is_period_word(term: str) -> bool:
    """A year, quarter, fiscal year or month ("2023", "q2", "fy2023", "july")."""
    return bool(_PERIOD_WORD.match(term))


def _may_name(term: str, labels: Mapping[int, _Label],
              term_document_counts: Callable[[str], Mapping[int, int]]) -> bool:
    """Whether a word of the question may name a document by its label: a date or period word
    ("2023", "q2", "july") always, another word only when at most half the documents' text holds it.
    A manual whose first page opens its introduction has "use", "type" and "form" on its cover;
    "What does asn1_get_length_der give back when the length octets use the indefinite form?" named
    that manual, and search then looked nowhere else, though both documents use all three words.
    A single letter names nothing: the "m" of "I'm" named a book whose cover says "Cortex-M"."""
    if is_period_word(term):
        return True
    if _is_letter(term):
        return False
    holders = [d for d in term_document_counts(term) if d in labels]
    return len(holders) <= max(1, len(labels) // 2)


def _is_letter(term: str) -> bool:
    return len(term) == 1 and term.isalpha()


def _named_by(term: str, labels: Mapping[int, _Label], sizes: Mapping[int, int],
              term_document_counts: Callable[[str], Mapping[int, int]]) -> frozenset[int]:
    """The documents whose label names ``term``: its file name or title says it, or its first page
    does and its text dwells on the word (:data:`COVER_CONCENTRATION` times the share of passages
    holding it in the rest of the library, or more). In a library of manuals and filings, "links" on
    the first page of the Cargo book named that book for "How should my podcast client declare that
    it handles feed:// links?", though three other books use the word more; "Apple" on a 10-Q's
    cover is in a third to half of its passages."""
    labelled = [d for d, label in labels.items() if term in label.names]
    if not labelled or is_period_word(term):
        return frozenset(labelled)  # a period on a cover names its document; its text may mention any
    counts = {d: c for d, c in term_document_counts(term).items() if d in labels}
    held, size = sum(counts.values()), sum(sizes.get(d, 0) for d in labels)
    if not held or not size:
        return frozenset(labelled)  # not in the keyword index's words: nothing to compare

    def dwells_on(d: int) -> bool:  # compared with the rest of the library: a document may be most of it
        rest = (held - counts.get(d, 0)) / max(size - sizes.get(d, 0), 1)
        return counts.get(d, 0) >= COVER_CONCENTRATION * rest * sizes.get(d, 0)

    return frozenset(d for d in labelled if term in labels[d].given or dwells_on(d))


def other_periods(question: str, profiles: Sequence[DocumentProfile]) -> frozenset[int]:
    """The documents whose labels name a quarter, when the question names a quarter with its year
    ("Q3 2022", "the third quarter of 2023") and some other label names both: reports of other periods,
    which the question does not name (see :func:`_with_periods`)."""
    return _other_periods(named_periods(question), {p.doc_id: label_of(p) for p in profiles})


def _reports_of(quarter: str, year: str, labels: Mapping[int, _Label]) -> frozenset[int]:
    """The documents whose labels name both the quarter and the year."""
    return frozenset(d for d, label in labels.items() if {quarter, year} <= label.names)


def _other_periods(periods: Sequence[tuple[str, str]], labels: Mapping[int, _Label]) -> frozenset[int]:
    matched = frozenset().union(*(_reports_of(quarter, year, labels) for quarter, year in periods))
    if not matched:
        return frozenset()
    return frozenset(d for d, label in labels.items() if label.names & _QUARTERS and d not in matched)


def _with_periods(named: Mapping[str, frozenset[int]], periods: Sequence[tuple[str, str]],
                  labels: Mapping[int, _Label]) -> dict[str, frozenset[int]]:
    """``named`` (word -> the documents it names) with each quarter the question names with its year
    ("Q3 2022") as one word, naming the documents whose labels say both, when some label does. Apart,
    "q3" named the Q3 2023 filing and "2022" barely counted (most labels of a library of filings say
    it), so "Amazon's Q3 2022 operating cash flow" weighed the Q3 2023 filing 0.66 beside the one it
    names, and search ranked its pages with theirs; reports of other periods (:func:`_other_periods`)
    are not named at all now."""
    paired = dict(named)
    for quarter, year in periods:
        both = _reports_of(quarter, year, labels)
        if both:
            paired[f"{quarter} {year}"] = both
    for quarter, year in periods:
        if f"{quarter} {year}" in paired:
            paired.pop(quarter, None)
            paired.pop(year, None)
    return paired


def _label_scores(named: Mapping[str, frozenset[int]], labels: Mapping[int, _Label]) -> dict[int, float]:
    """{doc id: score} from the question's words that name documents (``named``: word -> the
    documents it names): a word naming few documents counts much, one naming every document nothing."""
    n = len(labels)
    scores = dict.fromkeys(labels, 0.0)
    for docs in named.values():
        for doc_id in docs:
            scores[doc_id] += LABEL_WEIGHT * math.log(n / len(docs))
    return scores


def _content_scores(terms: Sequence[str], sizes: Mapping[int, int],
                    term_document_counts: Callable[[str], Mapping[int, int]]) -> dict[int, float]:
    """Scores from the words concentrated in a few documents' text (in :data:`MIN_CONCENTRATED`
    passages of one and :data:`CONCENTRATED_SHARE` of its passages or more): a word a book uses in
    three of its 300 passages ("behaviour") named it for any question using the word."""
    n_docs = len(sizes)
    scores: dict[int, float] = {}
    for term in terms:
        if is_period_word(term) or _is_letter(term):
            continue  # a date names a document by its cover (its text may mention any period); a letter, none
        counts = term_document_counts(term)
        if not counts or len(counts) >= n_docs * NAMED_MAX_SHARE:
            continue  # in (nearly) every document: names none
        idf = math.log(n_docs / len(counts))
        for doc_id, count in counts.items():
            if count >= max(MIN_CONCENTRATED, CONCENTRATED_SHARE * sizes.get(doc_id, 0)):
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * math.log1p(count)
    return scores


def _prefer_newest(scores: dict[int, float], labels: Mapping[int, _Label]) -> None:
    best = max(scores.values())
    tied = [d for d, s in scores.items() if s >= TIE_SHARE * best and labels[d].date is not None]
    if len(tied) > 1:
        newest = max(tied, key=lambda d: labels[d].date)  # type: ignore[arg-type, return-value]
        scores[newest] = best * RECENCY_BONUS
