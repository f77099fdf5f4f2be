"""Retrieval and answer metrics for the evaluation harness.

Retrieval is judged on the ranked passages the retriever returns (what the answerer would read).
A passage is *relevant* when it lies on gold evidence: at document level when its file is a gold
document, at page level when its page span touches a gold page. A *unit* is one gold document or
one gold page. With ``ranked`` the retrieved passages, each given as the set of units it covers,
and ``gold`` the set of gold units:

- ``hit@k``        1 if any of the first k passages is relevant, else 0.
- ``precision@k``  relevant passages among the first k, divided by k (missing ranks count as misses).
- ``recall@k``     distinct gold units covered by the first k passages, divided by the gold units.
- ``mrr@10``       1 / rank of the first relevant passage within the first 10, else 0.
- ``ndcg@10``      binary gains, a passage gaining 1 only when it covers a gold unit no earlier
                   passage covered (so ten passages from one gold page do not count ten times), over
                   the ideal of one new gold unit per rank: IDCG = sum of 1/log2(i+1), i <= min(|gold|, 10).
                   With one gold unit this is the textbook 1/log2(rank+1) of the first relevant passage.

Answer metrics: token F1 as defined by the SQuAD v1.1 evaluation script; ROUGE-L F-measure from
Google's ``rouge-score`` (the package that reimplements ROUGE-1.5.5, Porter stemming on); BLEU from
``sacrebleu`` at corpus level: BLEU-1 as the RAG paper (Lewis et al., 2020) reports it for abstractive
QA (MS MARCO, Jeopardy), and standard BLEU-4 beside it. sacrebleu is used rather than NLTK because its
tokenisation is fixed and its signature makes scores comparable; text is lower-cased first, as QA
evaluation does. All scores are in [0, 1].
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from sacrebleu.metrics import BLEU

Unit = Hashable
DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
RANK_CUTOFF = 10
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


# ------------------------------------------------------------------ ranking metrics


def dcg(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain: sum of gain_i / log2(i + 1) over ranks i = 1..k."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def ndcg(gains: Sequence[float], ideal_gains: Sequence[float], k: int) -> float:
    """DCG of ``gains`` over the DCG of ``ideal_gains`` sorted best first (0 when the ideal is 0)."""
    ideal = dcg(sorted(ideal_gains, reverse=True), k)
    return dcg(gains, k) / ideal if ideal > 0 else 0.0


def _relevant(units: frozenset[Unit], gold: frozenset[Unit]) -> bool:
    return not units.isdisjoint(gold)


def hit_at(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], k: int) -> float:
    return 1.0 if any(_relevant(u, gold) for u in ranked[:k]) else 0.0


def precision_at(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], k: int) -> float:
    return sum(1 for u in ranked[:k] if _relevant(u, gold)) / k


def recall_at(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], k: int) -> float:
    if not gold:
        return 0.0
    covered: set[Unit] = set()
    for units in ranked[:k]:
        covered |= units & gold
    return len(covered) / len(gold)


def reciprocal_rank(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], k: int = RANK_CUTOFF) -> float:
    for rank, units in enumerate(ranked[:k], 1):
        if _relevant(units, gold):
            return 1.0 / rank
    return 0.0


def novelty_gains(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit]) -> list[float]:
    """1 for a passage that covers a gold unit not covered higher up, else 0."""
    seen: set[Unit] = set()
    gains = []
    for units in ranked:
        new = (units & gold) - seen
        gains.append(1.0 if new else 0.0)
        seen |= new
    return gains


def ndcg_at(ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], k: int = RANK_CUTOFF) -> float:
    return ndcg(novelty_gains(ranked[:k], gold), [1.0] * min(len(gold), k), k)


def metric_names(ks: Sequence[int] = DEFAULT_KS, cutoff: int = RANK_CUTOFF) -> list[str]:
    """Metric keys in table order: hit@k..., precision@k..., recall@k..., mrr@10, ndcg@10."""
    names = [f"{name}@{k}" for name in ("hit", "precision", "recall") for k in ks]
    return names + [f"mrr@{cutoff}", f"ndcg@{cutoff}"]


def retrieval_metrics(
    ranked: Sequence[frozenset[Unit]], gold: frozenset[Unit], ks: Sequence[int] = DEFAULT_KS,
    cutoff: int = RANK_CUTOFF,
) -> dict[str, float]:
    """Every retrieval metric of one question, keyed as :func:`metric_names` lists them."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = hit_at(ranked, gold, k)
    for k in ks:
        out[f"precision@{k}"] = precision_at(ranked, gold, k)
    for k in ks:
        out[f"recall@{k}"] = recall_at(ranked, gold, k)
    out[f"mrr@{cutoff}"] = reciprocal_rank(ranked, gold, cutoff)
    out[f"ndcg@{cutoff}"] = ndcg_at(ranked, gold, cutoff)
    return out


def mean_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Key-wise mean over questions (keys in first-seen order); empty input gives {}."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            totals[key] = totals.get(key, 0.0) + value
            counts[key] = counts.get(key, 0) + 1
    return {key: totals[key] / counts[key] for key in totals}


# ------------------------------------------------------------------ answer metrics


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall after :func:`normalize_answer` (SQuAD v1.1)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


_ROUGE = None


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence), ``rouge-score`` with the Porter stemmer."""
    global _ROUGE
    if _ROUGE is None:
        from rouge_score import rouge_scorer

        _ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return float(_ROUGE.score(reference, prediction)["rougeL"].fmeasure)


def _bleu(max_order: int) -> "BLEU":
    from sacrebleu.metrics import BLEU

    return BLEU(lowercase=True, max_ngram_order=max_order, effective_order=True)


def corpus_bleu(predictions: Sequence[str], references: Sequence[Sequence[str]], max_order: int = 1) -> float:
    """sacrebleu corpus BLEU over predictions, each with one or more references; in [0, 1]."""
    if not predictions:
        return 0.0
    streams = max(len(refs) for refs in references)
    # sacrebleu takes one stream per reference position; a missing extra reference is None.
    ref_streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(streams)]
    return min(1.0, _bleu(max_order).corpus_score(list(predictions), ref_streams).score / 100.0)


def sentence_bleu(prediction: str, reference: str, max_order: int = 1) -> float:
    """sacrebleu sentence BLEU of one answer (for per-question listings; report corpus BLEU)."""
    return min(1.0, _bleu(max_order).sentence_score(prediction, [reference]).score / 100.0)


def bleu_signature(max_order: int = 1) -> str:
    """sacrebleu's description of the BLEU settings (for results.json); one reference per answer."""
    bleu = _bleu(max_order)
    bleu.corpus_score(["a"], [["a"]])  # the signature names the reference count, known after scoring
    return str(bleu.get_signature())


def citation_hits(cited: Sequence[frozenset[Unit]], gold: frozenset[Unit]) -> tuple[int, int]:
    """(cited passages lying on gold evidence, cited passages)."""
    return sum(1 for units in cited if _relevant(units, gold)), len(cited)
