"""The paired test and the adoption rule."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_rag.core.tune.measure import SetResult, compare, decide, sign_test, top_ids


def test_sign_test_is_exact_and_two_sided() -> None:
    assert sign_test([0.5] * 10) == (10, 0, pytest.approx(2 / 1024))
    assert sign_test([0.1, -0.1, 0.0])[2] == 1.0
    assert sign_test([]) == (0, 0, 1.0)


def test_top_ids_are_best_first() -> None:
    matrix = np.eye(4, dtype=np.float32)
    query = np.array([[0.1, 0.9, 0.5, 0.0]], dtype=np.float32)
    assert top_ids(matrix, np.array([10, 11, 12, 13]), query, k=3) == [[11, 12, 10]]


def _set(name: str, before: float, after: float, p: float, generated: bool, level: str = "page") -> SetResult:
    return SetResult(name, level, generated, 50, {"mrr@10": before}, {"mrr@10": after}, 10, 2, p)


def test_labelled_questions_decide_when_given() -> None:
    generated_better = _set("gen", 0.3, 0.5, 0.001, True)
    labelled_flat = _set("sec", 0.4, 0.41, 0.6, False, "document")
    adopt, reason = decide([generated_better, labelled_flat])
    assert not adopt and "no improvement beyond noise" in reason and "sec" in reason
    assert decide([generated_better])[0]


def test_any_set_worse_beyond_noise_blocks_adoption() -> None:
    adopt, reason = decide([_set("gen", 0.3, 0.5, 0.001, True), _set("sec", 0.5, 0.4, 0.01, False)])
    assert not adopt and reason.startswith("search got worse on sec")


def test_compare_pairs_questions() -> None:
    before = [{"hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0, "hit@1": 0.0}] * 8
    after = [{"hit@5": 1.0, "mrr@10": 0.5, "ndcg@10": 0.6, "hit@1": 0.0}] * 8
    result = compare("gen", "page", True, before, after)
    assert (result.wins, result.losses) == (8, 0) and result.better
    assert set(result.before) == {"hit@5", "mrr@10", "ndcg@10"}
    assert result.interval == (0.5, 0.5)
