"""Self-evaluation: questions generated from the user's own library, with the source page as gold.

1. ``sample_passages`` walks the library with a fixed seed, round-robin over documents so every
   file is represented, skipping passages too short or mostly numbers to ask about.
2. The chat model (temperature 0, so the same library gives the same questions) rewrites the
   passage's most specific sentence as a question, after one worked example: the bundled 135M model
   cannot be trusted with a whole passage. Where it gives nothing usable, or cannot run at all, a
   deterministic template asks what the document says about that sentence's rarest words.
3. ``check_question`` drops what is not a self-contained question, questions not about the passage
   (fewer than two, or under half, of their content words occur in it), and trivial copies: a
   question whose longest run of words shared with the passage is most of it can be found by string
   matching and says nothing about retrieval.
4. The kept questions, gold = the passage's page(s) and document, go through the same metrics as a
   labelled file (:func:`desktop_rag.core.eval.harness.run_evaluation`).
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Generator, Iterator, Sequence

from desktop_rag.core.eval.harness import EvalProgress, EvalResult, EvalTarget, aggregate, run_evaluation
from desktop_rag.core.eval.questions import EvalQuestion, ResolvedQuestion
from desktop_rag.core.models.chat import ChatModel, Message, never
from desktop_rag.core.store.library import Store
from desktop_rag.core.text import query_terms, split_sentences
from desktop_rag.core.types import DocumentStatus, RetrievalMode
from desktop_rag.errors import Cancelled, ModelError

log = logging.getLogger(__name__)

DEFAULT_SEED = 0
MIN_PASSAGE_WORDS = 25
MIN_LETTER_SHARE = 0.6
MIN_QUESTION_WORDS, MAX_QUESTION_WORDS = 4, 40
COPY_SHARE, COPY_MAX_RUN = 0.7, 10
MAX_ATTEMPTS_PER_QUESTION = 3
QUESTION_MAX_TOKENS = 40
KEY_WORDS = 4
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 6, 45
METHODS = ("auto", "llm", "template")

SYSTEM_PROMPT = "Rewrite the statement as a question that the statement answers. Reply with only the question."
# One worked example: tiny local models (the bundled SmolLM2-135M) follow a demonstration far better
# than an instruction. Its words are checked for below, so an echo of the example is rejected.
EXAMPLE_STATEMENT = ('From "Harbor Bakery 2021 report": Revenue grew 12% to $4.1 million in 2021, '
                     "driven by new stores in Ohio.")
EXAMPLE_QUESTION = "What drove Harbor Bakery's revenue growth in 2021?"
EXAMPLE_NAMES = frozenset({"harbor", "bakery"})
STEM_CHARS = 5  # words compare on their first letters: "managing" supports "manage"
_TOKEN = re.compile(r"\w+")
_PREFIX = re.compile(r"^\s*(?:\d+[.)]\s*|[-*]\s*|q(?:uestion)?\s*\d*\s*:\s*)", re.IGNORECASE)
_CONTEXT_REFERENCE = re.compile(
    r"^(?:according to|based on|in|from) (?:the|this) (?:passage|text|excerpt|document|section)\s*,?\s*", re.IGNORECASE)
_NEEDS_CONTEXT = re.compile(r"\b(?:th(?:e|is) (?:passage|text|excerpt|paragraph))\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SampledPassage:
    chunk_id: int
    path: str
    file: str
    page: int
    page_end: int
    text: str


@dataclass(slots=True)
class GeneratedQuestions:
    questions: list[ResolvedQuestion] = field(default_factory=list)
    attempted: int = 0
    rejected: Counter = field(default_factory=Counter)
    by_method: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    model: str = ""
    note: str = ""

    def summary(self, method: str, seed: int) -> dict[str, object]:
        return {"method": method, "model": self.model, "seed": seed, "kept": len(self.questions),
                "attempted": self.attempted, "rejected": dict(self.rejected), "by_method": dict(self.by_method),
                "seconds": round(self.seconds, 3), "note": self.note}


# ------------------------------------------------------------------ sampling


def _askable(text: str) -> bool:
    tokens = _TOKEN.findall(text)
    words = [t for t in tokens if t.isalpha() and len(t) > 1]
    return len(words) >= MIN_PASSAGE_WORDS and len(words) >= MIN_LETTER_SHARE * len(tokens)


def library_passages(store: Store, doc_ids: Collection[int] | None = None) -> dict[str, list[SampledPassage]]:
    """Every passage of every indexed document (or of those of ``doc_ids``), keyed by path, in chunk order."""
    out: dict[str, list[SampledPassage]] = {}
    for doc in store.documents():
        if doc.status != DocumentStatus.INDEXED or (doc_ids is not None and doc.id not in doc_ids):
            continue
        rows = store.chunk_rows(int(i) for i in store.chunk_ids_of([doc.id]))
        out[doc.path] = [SampledPassage(cid, doc.path, doc.name, r["page_start"], r["page_end"], r["text"])
                         for cid, r in sorted(rows.items(), key=lambda kv: kv[1]["ordinal"])]
    return out


def sample_passages(passages: dict[str, list[SampledPassage]], seed: int = DEFAULT_SEED) -> Iterator[SampledPassage]:
    """Askable passages in a seeded order, round-robin over documents (each in a seeded order)."""
    rng = random.Random(seed)
    paths = sorted(passages)
    rng.shuffle(paths)
    queues = []
    for path in paths:
        items = [p for p in passages[path] if _askable(p.text)]
        rng.shuffle(items)
        queues.append(iter(items))
    while queues:
        for queue in list(queues):
            item = next(queue, None)
            if item is None:
                queues.remove(queue)
            else:
                yield item


# ------------------------------------------------------------------ checking questions


def longest_shared_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest run of consecutive tokens that occurs in both sequences."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def is_trivial_copy(question: str, passage: str) -> bool:
    """Most of the question (or 10+ words of it in a row) copied verbatim from the passage."""
    q, p = _TOKEN.findall(question.lower()), _TOKEN.findall(passage.lower())
    if not q:
        return True
    run = longest_shared_run(q, p)
    return run >= COPY_MAX_RUN or run >= COPY_SHARE * len(q)


def clean_question(raw: str) -> str:
    """The first question in a model's reply, without numbering, labels or "according to the passage"."""
    for line in raw.strip().splitlines():
        if "?" in line:
            text, before = line, ""
            while text != before:  # labels and quotes come in any order: "1. Question: "..."
                before = text
                text = _CONTEXT_REFERENCE.sub("", _PREFIX.sub("", text.strip().strip('"*\'')))
            text = text[: text.index("?") + 1].strip() if "?" in text else text
            return text[:1].upper() + text[1:]
    return raw.strip()


def check_question(question: str, passage: str, label: str = "") -> str:
    """Why the question is rejected, or '' when it is kept."""
    words = _TOKEN.findall(question)
    if not question.endswith("?"):
        return "not a question"
    if not MIN_QUESTION_WORDS <= len(words) <= MAX_QUESTION_WORDS:
        return "too short or too long"
    if _NEEDS_CONTEXT.search(question):
        return "needs the passage"
    if is_trivial_copy(question, passage):
        return "trivial copy"
    if not is_grounded(question, passage, label):
        return "not about the passage"
    if echoes_example(question, passage, label):
        return "echoes the example"
    return ""


def echoes_example(question: str, passage: str, label: str = "") -> bool:
    """The worked example's own names in a question where the passage does not have them."""
    words = set(_TOKEN.findall(question.lower())) & EXAMPLE_NAMES
    return bool(words - set(_TOKEN.findall(f"{passage} {label}".lower())))


def _stems(text: str) -> list[str]:
    return [w[:STEM_CHARS] for w in query_terms(text) if w.isalpha() and len(w) > 2]


def is_grounded(question: str, passage: str, label: str = "") -> bool:
    """At least two of the question's content words, and half of them, occur in the passage
    (the document's own name does not count: it is in every question about the document)."""
    named, present = set(_stems(label)), set(_stems(passage))
    words = [w for w in _stems(question) if w not in named]
    found = sum(1 for w in words if w in present)
    return found >= 2 and found >= 0.5 * len(words)


# ------------------------------------------------------------------ writing questions


class Rarity:
    """Inverse document frequency of words over the library's passages."""

    def __init__(self, passages: dict[str, list[SampledPassage]]) -> None:
        self.df: Counter = Counter()
        self.total = 0
        for items in passages.values():
            for p in items:
                self.df.update(set(query_terms(p.text)))
                self.total += 1

    def idf(self, word: str) -> float:
        return math.log((self.total + 1) / (self.df.get(word, 0) + 1))

    @staticmethod
    def words_of(sentence: str) -> list[str]:
        return [w for w in query_terms(sentence) if w.isalpha() and len(w) > 2]

    def specificity(self, sentence: str) -> float:
        words = self.words_of(sentence)
        return sum(self.idf(w) for w in words) / max(len(words), 1)


def key_sentence(passage: SampledPassage, rarity: Rarity) -> str:
    """The passage's most specific whole sentence (rarest words on average), else any sentence."""
    sentences = [" ".join(s.split()) for s in split_sentences(passage.text)]
    sized = [s for s in sentences if MIN_SENTENCE_WORDS <= len(rarity.words_of(s)) <= MAX_SENTENCE_WORDS]
    whole = [s for s in sized if s[:1].isupper() and s.endswith(".") and not s.isupper()]
    return max(whole or sized or sentences or [passage.text], key=rarity.specificity)


def label_of(passage: SampledPassage) -> str:
    return Path(passage.file).stem


def question_messages(passage: SampledPassage, sentence: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": EXAMPLE_STATEMENT},
            {"role": "assistant", "content": EXAMPLE_QUESTION},
            {"role": "user", "content": f'From "{label_of(passage)}": {sentence}'}]


def llm_question(model: ChatModel, passage: SampledPassage, rarity: Rarity,
                 should_stop: Callable[[], bool] = never) -> str:
    messages = question_messages(passage, key_sentence(passage, rarity))
    pieces = model.stream_chat(messages, max_tokens=QUESTION_MAX_TOKENS, temperature=0.0, should_stop=should_stop)
    return clean_question("".join(pieces))


def template_question(passage: SampledPassage, rarity: Rarity) -> str:
    """Deterministic: ask what the document says about the rarest words of its most specific sentence."""
    words = rarity.words_of(key_sentence(passage, rarity))
    keep = set(sorted(words, key=lambda w: (-rarity.idf(w), w))[:KEY_WORDS])
    chosen = list(dict.fromkeys(w for w in words if w in keep))
    return f"What does {label_of(passage)} say about {' '.join(chosen)}?" if chosen else ""


def _resolved(passage: SampledPassage, question: str, number: int, method: str) -> ResolvedQuestion:
    pages = tuple((passage.file, p) for p in range(passage.page, passage.page_end + 1))
    source = EvalQuestion(number, question, "", (passage.file,), pages, method)
    return ResolvedQuestion(source, frozenset({passage.path}),
                            frozenset((passage.path, p) for _, p in pages), {passage.path: passage.file})


class QuestionWriter:
    """Writes one question per passage: the chat model first (unless told not to), else the template."""

    def __init__(self, chat_model: ChatModel | None, method: str, rarity: Rarity,
                 should_stop: Callable[[], bool] = never) -> None:
        if method not in METHODS:
            raise ValueError(f"question method must be one of {', '.join(METHODS)}, not {method!r}")
        self.model = chat_model if method != "template" else None
        self.method, self.rarity, self.should_stop = method, rarity, should_stop
        self.note = ""

    def write(self, passage: SampledPassage, rejected: Counter) -> tuple[str, str]:
        """(question, method), or ('', '') when nothing usable came out; counts the rejections."""
        if self.model is not None:
            try:
                question = llm_question(self.model, passage, self.rarity, self.should_stop)
            except ModelError as exc:
                if self.method == "llm":
                    raise
                log.warning("the chat model cannot write questions (%s); using the template", exc)
                self.model, self.note = None, f"chat model unavailable ({exc}); template questions"
            else:
                why = check_question(question, passage.text, label_of(passage))
                if not why:
                    return question, "llm"
                rejected[f"llm: {why}"] += 1
                if self.method == "llm":
                    return "", ""
        question = template_question(passage, self.rarity)
        why = check_question(question, passage.text, label_of(passage)) if question else "no specific words"
        if why:
            rejected[f"template: {why}"] += 1
            return "", ""
        return question, "template"


def generate_questions(
    store: Store,
    n: int,
    chat_model: ChatModel | None = None,
    *,
    seed: int = DEFAULT_SEED,
    method: str = "auto",
    should_cancel: Callable[[], bool] = never,
    doc_ids: Collection[int] | None = None,
) -> Generator[EvalProgress, None, GeneratedQuestions]:
    """Up to ``n`` questions with their source passage's page as gold (see the module docstring),
    from the documents of ``doc_ids`` only if given."""
    started = time.perf_counter()
    passages = library_passages(store, doc_ids)
    writer = QuestionWriter(chat_model, method, Rarity(passages), should_cancel)
    out = GeneratedQuestions(model=chat_model.name if chat_model is not None and method != "template" else "")
    yield EvalProgress("generating", 0, n)
    for passage in sample_passages(passages, seed):
        if len(out.questions) >= n or out.attempted >= n * MAX_ATTEMPTS_PER_QUESTION:
            break
        if should_cancel():
            raise Cancelled("self-evaluation cancelled")
        out.attempted += 1
        question, used = writer.write(passage, out.rejected)
        if question:
            out.by_method[used] += 1
            out.questions.append(_resolved(passage, question, len(out.questions) + 1, used))
        yield EvalProgress("generating", len(out.questions), n, question[:60])
    out.note = writer.note
    out.seconds = time.perf_counter() - started
    return out


def self_evaluate(
    store: Store,
    targets: Sequence[EvalTarget],
    n: int,
    chat_model: ChatModel | None = None,
    *,
    seed: int = DEFAULT_SEED,
    method: str = "auto",
    modes: Sequence[RetrievalMode | str] = tuple(RetrievalMode),
    should_cancel: Callable[[], bool] = never,
    doc_ids: Collection[int] | None = None,
) -> Generator[EvalProgress, None, EvalResult]:
    """Generate questions from ``store`` (from its documents ``doc_ids`` only, if given) and score
    every target on them (page and document level)."""
    generated = yield from generate_questions(store, n, chat_model, seed=seed, method=method,
                                              should_cancel=should_cancel, doc_ids=doc_ids)
    started = time.perf_counter()
    result = yield from run_evaluation(generated.questions, targets, kind="generated",
                                       source=f"{len(generated.questions)} questions generated (seed {seed})",
                                       modes=modes, should_cancel=should_cancel)
    result.generation = generated.summary(method, seed)
    result.generation["metrics_by_method"] = metrics_by_method(result, targets, modes)
    result.timings["generation"] = generated.seconds
    result.timings["evaluation"] = time.perf_counter() - started
    return result


def metrics_by_method(result: EvalResult, targets: Sequence[EvalTarget], modes: Sequence[str]) -> dict[str, object]:
    """The same metrics over the questions of each writer ('llm', 'template'): they favour modes differently."""
    out: dict[str, object] = {}
    for method in sorted({r["type"] for r in result.per_question}):
        records = [r for r in result.per_question if r["type"] == method]
        out[method] = {"count": len(records), "metrics": aggregate(records, targets, modes)}
    return out


def questions_jsonl(questions: Sequence[ResolvedQuestion]) -> str:
    """Generated questions in the labelled JSONL format, to keep or edit and run with --questions."""
    import json

    lines = []
    for q in questions:
        pages = [{"file": q.names[path], "page": page} for path, page in sorted(q.gold_pages)]
        lines.append(json.dumps({"question": q.text, "docs": sorted(q.names[p] for p in q.gold_docs),
                                 "pages": pages, "type": q.source.kind}, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")
