"""Keep the generated answer short and clean: small models repeat themselves, echo the prompt's
``<source>`` tags and stop mid-sentence at the token limit.

While streaming, :func:`has_enough` says when to stop asking the model for more: three complete
sentences, or a sentence it already wrote. :func:`tidy_answer` then drops echoed tags, repeated
sentences, anything past three sentences, and a last sentence the token limit cut off.
"""

from __future__ import annotations

import re
from typing import Sequence

from desktop_rag.core.text import STOPWORDS, split_sentences

MAX_ANSWER_SENTENCES = 3
NEAR_REPEAT = 0.7  # sentences sharing this share of their words (Jaccard) say the same thing
NEAR_REPEAT_WORDS = 5
_TAGS = re.compile(r"</?\s*source\b[^>]*(?:>|$)|^\s*sources?:\s*$", re.IGNORECASE | re.MULTILINE)
_TAG_START = re.compile(r"<\s*/?\s*source\b", re.IGNORECASE)  # the prompt's own delimiters, echoed
_TAG_PREFIX = re.compile(r"<\s*/?\s*(?:s(?:o(?:u(?:r(?:ce?)?)?)?)?)?", re.IGNORECASE)  # "<", "</", "</sou"
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*\s*$")
# a model stuck in a loop: the same 4-40 characters four times running ("_mime_value_string_mime_value_string...")
_LOOP = re.compile(r"(\S.{3,39}?)\1{3,}", re.DOTALL)
LOOP_WINDOW = 400  # characters at the end of the streamed text looked at for a loop
_FIGURE_POINT = re.compile(r"\d\.[ \t]*$")
_WORDS = re.compile(r"\w+")
_WRAPPED = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n(?=[ \t]*[a-z(])")  # a line that runs on in lower case
_MARKUP = re.compile(r"<[^<>]*>")
_LIST_MARK = re.compile(r"^(?:\(?\d{1,2}[.)]|[-•*])(?=\s|$)")  # "1.", "2)", "(3)", "-", "•"
_TRAILING_MARKUP = re.compile(r"(?<=[.!?\]\"')])(?:\s*<[^<>]*>)+\s*$")  # "... Accessories. </script>"


def _unwrapped(text: str) -> str:
    """The model's text with the lines it wrapped mid-sentence joined: small models copy the line
    breaks of the passages they read ("The weight is\ndetermined by ..."), and each line was taken
    for a sentence, so three fragments made "three sentences" and the answer stopped mid-sentence."""
    return _WRAPPED.sub(" ", text)


def _key(sentence: str) -> str:
    """What a sentence says: its words, without a list item's number ("2. Cash 1,235" repeats "1. Cash 1,235")."""
    return " ".join(_WORDS.findall(_LIST_MARK.sub("", sentence.strip()).lower()))


def _repeats(key: str, earlier: Sequence[str]) -> bool:
    """Whether a sentence (its :func:`_key`) says again what one before it said: the same words, or
    nearly (:data:`NEAR_REPEAT` of their words shared, both :data:`NEAR_REPEAT_WORDS` long or more:
    "The attribute is used to prevent ..." / "This is a feature of the attribute that is used to
    prevent ..." / "... that are not documented.")."""
    words = set(key.split())
    for other in earlier:
        if other == key:
            return True
        theirs = set(other.split())
        if min(len(words), len(theirs)) >= NEAR_REPEAT_WORDS and \
                len(words & theirs) >= NEAR_REPEAT * len(words | theirs):
            return True
    return False


def _pieces(text: str) -> list[str]:
    """The sentences of ``text``, a list item's number or bullet kept with its item ("1." and
    "Cash and cash equivalents: 1,235" are one item, not two sentences), and a line that stops on
    a comma or a word like "as" or "the" joined to the next ("These activities were reported as" /
    "1.11 billion ..." counted as a finished sentence, and the answer ended there)."""
    out: list[str] = []
    for sentence in split_sentences(text):
        if out and (_LIST_MARK.fullmatch(out[-1].strip()) or _runs_on(out[-1])):
            out[-1] = f"{out[-1].strip()} {sentence}"
        else:
            out.append(sentence)
    return out


def _runs_on(sentence: str) -> bool:
    words = sentence.split()
    return bool(words) and (words[-1].endswith(",") or words[-1].lower() in STOPWORDS)


def _ended(text: str) -> bool:
    """Whether the text ends a sentence; not on a figure's point, which may be a decimal one still
    streaming ("This is a 2." was shown: the stop came between "2." and "5%")."""
    return bool(_ENDS_SENTENCE.search(text)) and not _FIGURE_POINT.search(text)


def _open_end(text: str) -> bool:
    """Whether the text stops inside a sentence: not :func:`_ended`, and not at the end of a line."""
    return bool(text.strip()) and not _ended(text) and not text.rstrip(" \t").endswith("\n")


def complete_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that have ended (the last one may still be growing)."""
    sentences = _pieces(_TAGS.sub(" ", _unwrapped(text)))
    return sentences if _ended(text) else sentences[:-1]


def has_enough(text: str) -> bool:
    """Whether the answer so far holds three complete sentences, repeats one, has started
    echoing the prompt's ``<source>`` tags (what follows is a copy of a passage, not an answer) or
    is stuck in a loop.
    Other markup is the model's text like any other: shown escaped, never dropped."""
    if _TAG_START.search(text) or _LOOP.search(text[-LOOP_WINDOW:]):
        return True
    keys = [_key(s) for s in complete_sentences(text)]
    keys = [k for k in keys if k]
    return len(keys) >= MAX_ANSWER_SENTENCES or any(_repeats(k, keys[:i]) for i, k in enumerate(keys))


class EchoHoldback:
    """The streamed answer without an echoed ``<source>`` tag: text from a "<" that may begin one is
    held back until it is known not to (then shown) or does (never shown; :func:`has_enough` stops the
    model there). The finished answer drops the tag anyway, but the window showed the streamed
    "</source" until the answer ended."""

    def __init__(self) -> None:
        self.held, self.echoed = "", False

    def feed(self, piece: str) -> str:
        """What of ``piece`` (and of the text held before it) can be shown now."""
        if self.echoed:
            return ""
        text, self.held = self.held + piece, ""
        tag = _TAG_START.search(text)
        if tag:
            self.echoed = True
            return text[:tag.start()]
        start = text.rfind("<")
        if start >= 0 and _TAG_PREFIX.fullmatch(text, start):
            text, self.held = text[:start], text[start:]
        return text

    def flush(self) -> str:
        """The text still held when the answer ends (a "<" that began no tag)."""
        held, self.held = self.held, ""
        return "" if self.echoed else held


def tidy_answer(text: str, cut_off: bool) -> str:
    """At most three distinct sentences, without echoed tags or a last line that only introduces
    ("The answer is:"); ``cut_off``: the model was stopped mid-way (the token limit, or
    :func:`has_enough`), so a last sentence without an end is dropped (kept, with an ellipsis, if it
    is all). Empty when the model said nothing of its own."""
    kept: list[tuple[int, str]] = []  # (index among the pieces, sentence)
    seen: list[str] = []
    text = _TRAILING_MARKUP.sub("", _TAGS.sub(" ", _unwrapped(text)))
    pieces = _pieces(text)
    for i, sentence in enumerate(pieces):
        key = _key(sentence)
        if not _WORDS.search(_MARKUP.sub(" ", sentence)) or _LOOP.search(sentence):
            continue  # nothing but markup ("</script>"), or a loop: noise, not something the model said
        if key and not _repeats(key, seen):
            seen.append(key)
            kept.append((i, " ".join(sentence.split())))
    kept = kept[:MAX_ANSWER_SENTENCES]
    sentences = [sentence for _, sentence in kept]
    if cut_off and kept and kept[-1][0] == len(pieces) - 1 and _open_end(text):  # the last piece was cut short
        if len(sentences) > 1:
            sentences.pop()
        else:
            sentences[-1] += "…"
    while sentences and sentences[-1].endswith(":"):  # "The answer is:" with nothing after it says nothing
        sentences.pop()
    return " ".join(sentences)
