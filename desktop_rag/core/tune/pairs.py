"""Training pairs from the library: a question each sampled passage answers, a hard negative, a page split.

Passages are sampled across documents and pages as the self-evaluation samples them
(:func:`desktop_rag.core.eval.selfeval.sample_passages`), and each gets a question from the same
writer: the local chat model, with the deterministic template where it gives nothing usable;
trivial copies of the passage are dropped there. The hard negative is the passage keyword search
ranks highest for the question that is not on the positive's pages: close in words, wrong in
substance, the examples MultipleNegativesRankingLoss learns most from.

The split is by page: a seeded hash puts every page of the library in the held-out set or not,
and a pair is held out only when all its pages are, trained on only when none is (a passage that
straddles the two is dropped), so no held-out page is seen in training, as a positive or a negative.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable, Generator

from desktop_rag.core.eval.selfeval import (MAX_ATTEMPTS_PER_QUESTION, QuestionWriter, Rarity, SampledPassage,
                                            library_passages, sample_passages)
from desktop_rag.core.models.chat import ChatModel, never
from desktop_rag.core.search.retriever import fts_match_expression
from desktop_rag.core.store.library import Store
from desktop_rag.errors import Cancelled, TuneError

MIN_PASSAGES = 200
HELD_OUT_SHARE = 0.2
NEGATIVE_DEPTH = 10

Page = tuple[str, int]


@dataclass(frozen=True, slots=True)
class TuneProgress:
    """One step of tuning: ``stage`` (pairs, training, embedding, measuring, switching), done of total."""

    stage: str
    done: int
    total: int
    message: str = ""
    loss: float | None = None
    seconds_left: float | None = None


@dataclass(frozen=True, slots=True)
class TrainingPair:
    question: str
    positive: str
    negative: str
    chunk_id: int
    path: str
    file: str
    page: int
    page_end: int
    method: str  # "llm" or "template": who wrote the question

    def pages(self) -> list[Page]:
        return [(self.path, p) for p in range(self.page, self.page_end + 1)]


@dataclass(slots=True)
class PairSet:
    train: list[TrainingPair] = field(default_factory=list)
    held_out: list[TrainingPair] = field(default_factory=list)
    attempted: int = 0
    rejected: Counter = field(default_factory=Counter)
    passages: int = 0

    def to_json(self) -> str:
        return json.dumps({"train": [asdict(p) for p in self.train], "held_out": [asdict(p) for p in self.held_out],
                           "attempted": self.attempted, "rejected": dict(self.rejected), "passages": self.passages})

    @staticmethod
    def from_json(text: str) -> "PairSet":
        raw = json.loads(text)
        return PairSet([TrainingPair(**p) for p in raw["train"]], [TrainingPair(**p) for p in raw["held_out"]],
                       raw["attempted"], Counter(raw["rejected"]), raw["passages"])

    @property
    def total(self) -> int:
        return len(self.train) + len(self.held_out)


def held_out(page: Page, seed: int, share: float = HELD_OUT_SHARE) -> bool:
    """Whether ``page`` is in the held-out set: a seeded hash, the same in every run with that seed."""
    name = os.path.basename(page[0])  # the file's name, not where it is: the same split wherever the library lives
    digest = hashlib.sha256(f"{seed}|{name}|{page[1]}".encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def split_of(pages: list[Page], seed: int) -> str:
    """"held_out", "train", or "" for a passage on pages of both sets."""
    flags = {held_out(p, seed) for p in pages}
    return "" if len(flags) > 1 else ("held_out" if flags.pop() else "train")


def hard_negative(store: Store, question: str, positive: SampledPassage, split: str, seed: int,
                  rows: dict[int, SampledPassage]) -> str:
    """The keyword search's best passage for ``question`` off the positive's pages and in its split."""
    own = {(positive.path, p) for p in range(positive.page, positive.page_end + 1)}
    match = fts_match_expression(question)
    for chunk_id, _ in (store.keyword_search(match, NEGATIVE_DEPTH) if match else []):
        other = rows.get(chunk_id)
        if other is None or chunk_id == positive.chunk_id:
            continue
        pages = [(other.path, p) for p in range(other.page, other.page_end + 1)]
        if own.isdisjoint(pages) and split_of(pages, seed) == split:
            return other.text
    return ""


def count_passages(passages: dict[str, list[SampledPassage]]) -> int:
    return sum(len(items) for items in passages.values())


def build_pairs(store: Store, n: int, chat_model: ChatModel | None, *, seed: int = 0, method: str = "auto",
                should_cancel: Callable[[], bool] = never) -> Generator[TuneProgress, None, PairSet]:
    """Up to ``n`` pairs (held-out ones included); TuneError for a library too small to tune."""
    passages = library_passages(store)
    out = PairSet(passages=count_passages(passages))
    if out.passages < MIN_PASSAGES:
        raise TuneError(f"the library has {out.passages} passages; adapting search needs at least {MIN_PASSAGES} "
                        "(add more documents first)")
    rows = {p.chunk_id: p for items in passages.values() for p in items}
    writer = QuestionWriter(chat_model, method, Rarity(passages), should_cancel)
    yield TuneProgress("pairs", 0, n, "writing questions")
    for passage in sample_passages(passages, seed):
        if out.total >= n or out.attempted >= n * MAX_ATTEMPTS_PER_QUESTION:
            break
        if should_cancel():
            raise Cancelled("tuning cancelled while writing questions")
        out.attempted += 1
        pair = _pair(store, writer, passage, out.rejected, seed, rows)
        if pair is not None:
            (out.held_out if split_of(pair.pages(), seed) == "held_out" else out.train).append(pair)
        yield TuneProgress("pairs", out.total, n, pair.question[:60] if pair else "")
    return out


def _pair(store: Store, writer: QuestionWriter, passage: SampledPassage, rejected: Counter, seed: int,
          rows: dict[int, SampledPassage]) -> TrainingPair | None:
    pages = [(passage.path, p) for p in range(passage.page, passage.page_end + 1)]
    split = split_of(pages, seed)
    if not split:
        rejected["on pages of both sets"] += 1
        return None
    question, used = writer.write(passage, rejected)
    if not question:
        return None
    negative = hard_negative(store, question, passage, split, seed, rows)
    if not negative:
        negative = _random_negative(passage, split, seed, rows)
    return TrainingPair(question, passage.text, negative, passage.chunk_id, passage.path, passage.file,
                        passage.page, passage.page_end, used)


def _random_negative(positive: SampledPassage, split: str, seed: int, rows: dict[int, SampledPassage]) -> str:
    """Where keyword search finds none: a seeded random passage of another page in the same split."""
    rng = random.Random(f"{seed}|{positive.chunk_id}")
    candidates = sorted(rows)
    for _ in range(50):
        other = rows[rng.choice(candidates)]
        if other.path != positive.path or other.page > positive.page_end or other.page_end < positive.page:
            if split_of([(other.path, p) for p in range(other.page, other.page_end + 1)], seed) == split:
                return other.text
    return ""
