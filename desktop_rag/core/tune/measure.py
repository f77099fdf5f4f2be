"""Before and after, on the same questions: the founding figure and the retrieval metrics, with a paired test.

Each question is searched twice by dense retrieval over the whole library: with the model in use
(its question vectors against the library's vectors) and with the tuned one (against the staged
vectors it made). Metrics are those of :mod:`desktop_rag.core.eval.metrics` (hit@5, MRR@10,
nDCG@10) at page or document level. Whether the difference is beyond noise is a paired test on
each question's reciprocal rank: the exact two-sided sign test over the questions whose rank
changed, with a seeded bootstrap interval of the mean change beside it.

"Mean cosine" is the figure of the founding material: the mean cosine similarity of each held-out
question with its own passage, with either model (it says how close pairs came, not whether
search ranks them first: both matter, only the second decides).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from desktop_rag.core.eval import metrics as m
from desktop_rag.core.eval.questions import ResolvedQuestion
from desktop_rag.core.tune.pairs import TrainingPair

KEY_METRICS = ("hit@5", "mrr@10", "ndcg@10")
SIGNIFICANCE = 0.05
BOOTSTRAP_ROUNDS = 2000


@dataclass(frozen=True, slots=True)
class Judged:
    """A question and its gold evidence (paths, and (path, page) pairs)."""

    text: str
    gold_docs: frozenset[str]
    gold_pages: frozenset[tuple[str, int]]


@dataclass(slots=True)
class SetResult:
    name: str
    level: str  # "page" or "document"
    generated: bool  # the questions were written by the tuner, not by a person
    count: int
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    wins: int = 0  # questions whose reciprocal rank rose
    losses: int = 0
    p_value: float = 1.0
    interval: tuple[float, float] = (0.0, 0.0)  # 95% bootstrap interval of the mean change in RR

    @property
    def mean_change(self) -> float:
        return self.after.get("mrr@10", 0.0) - self.before.get("mrr@10", 0.0)

    @property
    def better(self) -> bool:
        return self.mean_change > 0 and self.p_value < SIGNIFICANCE

    @property
    def worse(self) -> bool:
        return self.mean_change < 0 and self.p_value < SIGNIFICANCE

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "generated": self.generated, "count": self.count,
                "before": self.before, "after": self.after, "wins": self.wins, "losses": self.losses,
                "p_value": self.p_value, "interval": list(self.interval)}


def judged_from_pairs(pairs: Sequence[TrainingPair]) -> list[Judged]:
    return [Judged(p.question, frozenset({p.path}), frozenset(p.pages())) for p in pairs]


def judged_from_resolved(questions: Sequence[ResolvedQuestion]) -> list[Judged]:
    return [Judged(q.text, q.gold_docs, q.gold_pages) for q in questions]


def top_ids(matrix: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int = m.RANK_CUTOFF) -> list[list[int]]:
    """The ids of the ``k`` best rows of ``matrix`` for each query (inner product, best first)."""
    if len(ids) == 0:
        return [[] for _ in range(len(queries))]
    scores = queries @ matrix.T
    k = min(k, len(ids))
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(scores, best, axis=1).argsort(axis=1)[:, ::-1]
    return [[int(ids[j]) for j in row] for row in np.take_along_axis(best, order, axis=1)]


def question_metrics(ranked: list[list[int]], judged: Sequence[Judged], level: str,
                     where: dict[int, tuple[str, int, int]]) -> list[dict[str, float]]:
    rows = []
    for hits, question in zip(ranked, judged):
        units = [_units(where[h], level) for h in hits]
        rows.append(m.retrieval_metrics(units, question.gold_docs if level == "document" else question.gold_pages))
    return rows


def _units(location: tuple[str, int, int], level: str) -> frozenset:
    path, first, last = location
    return frozenset({path}) if level == "document" else frozenset((path, p) for p in range(first, max(first, last) + 1))


def sign_test(changes: Sequence[float]) -> tuple[int, int, float]:
    """(wins, losses, exact two-sided p) over the nonzero changes."""
    wins, losses = sum(1 for c in changes if c > 0), sum(1 for c in changes if c < 0)
    n = wins + losses
    if n == 0:
        return 0, 0, 1.0
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1)) / 2**n
    return wins, losses, min(1.0, 2 * tail)


def bootstrap_interval(changes: Sequence[float], seed: int = 0, rounds: int = BOOTSTRAP_ROUNDS) -> tuple[float, float]:
    if not changes:
        return 0.0, 0.0
    rng = random.Random(seed)
    n = len(changes)
    means = sorted(sum(changes[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def compare(name: str, level: str, generated: bool, before: list[dict[str, float]],
            after: list[dict[str, float]]) -> SetResult:
    """The means of both runs and the paired test on reciprocal rank."""
    changes = [a["mrr@10"] - b["mrr@10"] for a, b in zip(after, before)]
    wins, losses, p = sign_test(changes)
    pick = lambda rows: {k: v for k, v in m.mean_metrics(rows).items() if k in KEY_METRICS}  # noqa: E731
    return SetResult(name, level, generated, len(before), pick(before), pick(after), wins, losses, p,
                     bootstrap_interval(changes))


def mean_cosine(questions: np.ndarray, passages: np.ndarray) -> float:
    """Mean cosine of row i of one with row i of the other (both L2-normalised)."""
    return float(np.mean(np.sum(questions * passages, axis=1))) if len(questions) else 0.0


def decide(results: Sequence[SetResult]) -> tuple[bool, str]:
    """Adopt when the questions that matter most improve beyond noise and no set gets worse beyond it.
    Labelled questions, when there are any, matter most (generated ones can mislead); else the
    held-out generated questions at page level."""
    labelled = [r for r in results if not r.generated]
    primary = labelled or [r for r in results if r.generated and r.level == "page"]
    worse = [r for r in results if r.worse]
    if worse:
        return False, "search got worse on " + ", ".join(f"{r.name} ({r.level})" for r in worse)
    if any(r.better for r in primary):
        best = max((r for r in primary if r.better), key=lambda r: r.mean_change)
        return True, (f"search improved on {best.name} ({best.level} level): MRR@10 {best.before['mrr@10']:.3f} -> "
                      f"{best.after['mrr@10']:.3f}, p = {best.p_value:.3g}")
    shown = ", ".join(f"{r.name} MRR@10 {r.before.get('mrr@10', 0):.3f} -> {r.after.get('mrr@10', 0):.3f} "
                      f"(p = {r.p_value:.2g})" for r in primary)
    return False, f"no improvement beyond noise ({shown})"
