"""Words, stop words and sentences: the leaf every stage may use (no imports from the package)."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves tell give describe explain list please""".split()
)


def query_terms(query: str) -> list[str]:
    """Distinct lower-case content words of a query, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)


# Words questions use to point at documents rather than at what is in them ("what did the latest
# report disclose about ..."): they match cover pages and boilerplate, not answers.
QUESTION_META_WORDS = frozenset(
    """report reports reported reporting filing filings filed document documents latest recent recently
    most mentioned mention disclosed disclose disclosure discussed discuss described describe stated
    state according provide provided information details detail specific specifically significant""".split()
)


def content_terms(query: str, leave_out: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The query's words that say what is asked: no stop words, no single letters ("Apple's" ->
    apple, not s), no words that only point at documents, none of ``leave_out``."""
    return [t for t in query_terms(query)
            if len(t) > 1 and t not in QUESTION_META_WORDS and t not in leave_out]


_FIGURE = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]|[.,]\d)")


def normalize_figure(figure: str) -> str:
    """One spelling of a number: no thousands commas, no trailing decimal zeros ("1,200.50" -> 1200.5)."""
    plain = figure.replace(",", "").lstrip("$")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain


_CODE = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+){2,}|0x[0-9a-fA-F]+)(?![\w]|\.\d)")  # "4.19.0", "0x100"


# code a question quotes: a flag ("-C", "--release"), a name with an underscore ("asn1_read_value"), a file or
# key with a dot ("build.rs", "profile.release"), a path ("std::mem"), an attribute ("#[doc"), a call ("len()")
_CODE_TOKEN = re.compile(r"(?<![\w-])--?[A-Za-z]|\w_\w|[a-z]\.[a-z]{2,}\b|::|#\[|\w\(\)")


def writes_code(text: str) -> bool:
    """Whether ``text`` writes code: a flag, an identifier with an underscore, a file name, a path."""
    return bool(_CODE_TOKEN.search(text))


def stated_numbers(text: str) -> set[str]:
    """:func:`figures_in`, and the version numbers and hexadecimal codes manuals state ("4.19.0", "0x100")."""
    return figures_in(text) | {m.group().lower() for m in _CODE.finditer(text)}


def is_plain_figure(figure: str) -> bool:
    """Whether ``figure`` is a number :func:`figures_in` reads ("$82,959", "18.0"; not "4.19.0", "0x100", "-1")."""
    return bool(_FIGURE.fullmatch(figure.strip().lstrip("$")))


def figures_in(text: str) -> set[str]:
    """The numbers written in ``text``, normalized ("$82,959" and "82959" are the same figure)."""
    return {normalize_figure(m.group()) for m in _FIGURE.finditer(text)}


# no split after an abbreviation that is followed by a capital more often than it ends a sentence
# ("consist primarily of U.S. Treasury securities" was quoted as "... consist primarily of U.S.")
_ABBREVIATIONS = ("U.S.", "U.K.", "Inc.", "Corp.", "Co.", "Ltd.", "No.", "Nos.", "vs.", "e.g.", "i.e.", "Mr.", "Ms.",
                  "Dr.", "St.")
_NOT_AFTER = "".join(rf"(?<!\b{re.escape(a)})" for a in _ABBREVIATIONS)
_SENTENCE_SPLIT = re.compile(rf"(?<=[.!?]){_NOT_AFTER}\s+(?=[A-Z0-9\"'(\[])|\n+")


def counted(n: int, word: str) -> str:
    """``n`` and the word, plural unless one: "1 document", "3,037 pages"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def longer_words(text: str) -> list[str]:
    """The words of ``text`` longer than three letters that start with a letter."""
    return [w for w in text.split() if len(w) > 3 and w[0].isalpha()]


def title_cased(text: str) -> bool:
    """Every longer word capitalised, as in a title ("Stock Repurchase Activity", "SUBSIDIARIES OF
    PEPSICO, INC."); short words ("of", "and") may be lower case."""
    return all(w[0].isupper() for w in longer_words(text))


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s and s.strip()]
