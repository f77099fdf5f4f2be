"""Training pairs: the page split, hard negatives, the size check, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
from tune_library import build_library

from desktop_rag.core.tune.pairs import MIN_PASSAGES, PairSet, build_pairs, held_out, split_of
from desktop_rag.core.types import Events
from desktop_rag.errors import TuneError


def run(gen):  # noqa: ANN001, ANN201 - drive a generator to its result
    events = Events(gen)
    seen = list(events)
    return events.result, seen


def test_split_is_by_page_and_no_held_out_page_is_seen_in_training(tmp_path: Path) -> None:
    with build_library(tmp_path) as store:
        pairs, events = run(build_pairs(store, 150, None, seed=3, method="template"))
    assert pairs.total == 150 and len(pairs.held_out) > 10 and len(pairs.train) > 80
    held_pages = {page for p in pairs.held_out for page in p.pages()}
    train_pages = {page for p in pairs.train for page in p.pages()}
    assert held_pages.isdisjoint(train_pages)
    assert all(held_out(page, 3) for page in held_pages)
    positives_held = {p.positive for p in pairs.held_out}
    assert not any(p.negative in positives_held for p in pairs.train)  # nor as a negative
    assert events[-1].stage == "pairs" and events[-1].done == 150


def test_hard_negatives_share_words_but_not_the_page(tmp_path: Path) -> None:
    with build_library(tmp_path) as store:
        pairs, _ = run(build_pairs(store, 60, None, method="template"))
    assert all(p.negative and p.negative != p.positive for p in pairs.train)
    shared = [len(set(p.question.lower().split()) & set(p.negative.lower().split())) for p in pairs.train]
    assert sum(shared) / len(shared) >= 1  # keyword search found them, not chance


def test_pairs_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    with build_library(tmp_path) as store:
        first, _ = run(build_pairs(store, 40, None, seed=1, method="template"))
        again, _ = run(build_pairs(store, 40, None, seed=1, method="template"))
    assert first.to_json() == again.to_json()
    assert PairSet.from_json(first.to_json()).to_json() == first.to_json()


def test_a_library_too_small_is_refused_with_the_reason(tmp_path: Path) -> None:
    with build_library(tmp_path, docs=2, pages=20) as store:
        with pytest.raises(TuneError, match=f"40 passages.*at least {MIN_PASSAGES}"):
            run(build_pairs(store, 100, None, method="template"))


def test_a_passage_on_pages_of_both_sets_is_neither() -> None:
    pages = [("a.pdf", n) for n in range(1, 200)]
    mixed = next(i for i in range(198) if held_out(pages[i], 0) != held_out(pages[i + 1], 0))
    assert split_of(pages[mixed:mixed + 2], 0) == ""
    assert split_of([pages[mixed]], 0) in ("train", "held_out")
