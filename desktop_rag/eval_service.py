"""Wiring for the evaluation harness, shared by ``desktop-rag eval`` and the GUI.

Each settings variant (for example ``chunk_tokens=128``) gets a store of its own under
``<data-dir>/eval-stores/<variant>/``, filled by ingesting the main library's documents (by path)
with those settings; later runs skip unchanged files, so only the first run pays for indexing.
The main store is the variant "current settings".

``--in NAME`` (``scope``: collection and file names, as for ``search``) restricts every search of
the run to those documents (in each variant's store, the documents at the same paths). Labelled
questions whose gold documents are not all in the scope are skipped and listed with the reason,
not counted as misses; ``--generate`` writes its questions from the scope's documents only.

GUI entry points::

    run_self_evaluation(services, n, should_cancel) -> Generator[EvalProgress, None, EvalResult]
    render_chart(result, path)      # desktop_rag.core.eval.report, re-exported here
    format_table(result) -> str     # the same table the CLI prints
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Generator, Sequence

from desktop_rag.config import INDEX_SETTINGS, Settings
from desktop_rag.core.eval.harness import EvalProgress, EvalResult, EvalTarget, run_evaluation
from desktop_rag.core.eval.questions import ResolvedQuestion, SkippedQuestion, load_questions, resolve_questions
from desktop_rag.core.eval.report import format_table, render_chart, write_results
from desktop_rag.core.eval.selfeval import DEFAULT_SEED, self_evaluate
from desktop_rag.core.models.chat import never
from desktop_rag.core.search.scope import resolve_scope
from desktop_rag.core.types import DocumentStatus, Events, IngestProgress, IngestReport, RetrievalMode
from desktop_rag.errors import Cancelled, EmptyScopeError, SettingsError
from desktop_rag.services import Services, embedder_key

log = logging.getLogger(__name__)

__all__ = ["EvalProgress", "EvalResult", "format_table", "render_chart", "write_results", "run_self_evaluation",
           "run_labelled_evaluation", "parse_variants", "variant_name", "VariantStores"]

STORES_DIR = "eval-stores"
# A variant may change the settings that shape the index (the others need no store of their own).
VARIANT_KEYS: dict[str, type] = {name: type(getattr(Settings(), name)) for name in INDEX_SETTINGS}
ALL_MODES: tuple[RetrievalMode, ...] = tuple(RetrievalMode)
Variant = dict[str, Any]


def parse_variants(specs: Sequence[str]) -> list[Variant]:
    """``["chunk_tokens=128,chunk_tokens=254", "chunk_tokens=300+chunk_overlap=48"]`` -> variants.

    Commas separate variants, ``+`` joins the settings of one variant.
    """
    variants: list[Variant] = []
    for spec in specs:
        for part in filter(None, (p.strip() for p in spec.split(","))):
            variant: Variant = {}
            for item in part.split("+"):
                key, sep, value = item.strip().partition("=")
                if not sep or key not in VARIANT_KEYS:
                    raise SettingsError(f"variant {part!r}: expected SETTING=VALUE with SETTING one of "
                                        f"{', '.join(VARIANT_KEYS)}")
                try:
                    variant[key] = VARIANT_KEYS[key](value)
                except ValueError as exc:
                    raise SettingsError(f"variant {part!r}: {key} must be a {VARIANT_KEYS[key].__name__}") from exc
            if variant not in variants:
                variants.append(variant)
    return variants


def variant_name(variant: Variant) -> str:
    return "+".join(f"{k}={variant[k]}" for k in sorted(variant))


def _describe(settings: Settings, keys: Sequence[str]) -> Variant:
    return {k: getattr(settings, k) for k in keys}


class EvalScope:
    """The documents ``--in`` names, held by path: each store has its own document ids."""

    def __init__(self, services: Services, names: Sequence[str]) -> None:
        store = services.store
        ids = set(resolve_scope(names, store.documents(), store.collections.all()))
        self.names = list(names)
        self.paths = frozenset(d.path for d in store.documents() if d.id in ids)

    def ids_in(self, services: Services) -> list[int]:
        return [d.id for d in services.store.documents() if d.path in self.paths]

    def split(self, questions: Sequence[ResolvedQuestion]) -> tuple[list[ResolvedQuestion], list[SkippedQuestion]]:
        """The questions whose gold documents are all in the scope, and the others, skipped with why."""
        kept: list[ResolvedQuestion] = []
        skipped: list[SkippedQuestion] = []
        for q in questions:
            outside = sorted(q.names[p] for p in q.gold_docs if p not in self.paths)
            if outside:
                skipped.append(SkippedQuestion(q.line, q.text, f"gold document{'s' if len(outside) > 1 else ''} "
                                               f"{', '.join(outside)} not in the scope (--in)"))
            else:
                kept.append(q)
        if questions and not kept:
            raise EmptyScopeError(f"no question has all its gold documents in "
                                  f"{', '.join(repr(n) for n in self.names)}: nothing to evaluate")
        return kept, skipped


class _ScopedSearcher:
    """A retriever that searches only the scope's documents (ids of its own store)."""

    def __init__(self, retriever: Any, doc_ids: Sequence[int]) -> None:
        self.retriever, self.doc_ids = retriever, list(doc_ids)

    def embed_queries(self, queries: Sequence[str]) -> Any:
        return self.retriever.embed_queries(queries)

    def search(self, query: str, *, k: int, mode: Any, vector: Any = None) -> Any:
        return self.retriever.search(query, k=k, mode=mode, vector=vector, scope=self.doc_ids)


class _ScopedAnswerer:
    """An answerer that searches only the scope's documents."""

    def __init__(self, answerer: Any, doc_ids: Sequence[int]) -> None:
        self.answerer, self.doc_ids, self.mode = answerer, list(doc_ids), answerer.mode

    def ask(self, question: str, should_stop: Callable[[], bool] = never) -> Any:
        return self.answerer.ask(question, should_stop, scope=self.doc_ids)


class VariantStores:
    """The main store plus one store per variant; a context manager that closes what it opened.
    With a ``scope``, every target searches only its documents."""

    def __init__(self, services: Services, variants: Sequence[Variant] = (), scope: EvalScope | None = None) -> None:
        self.services = services
        self.variants = list(variants)
        self.scope = scope
        self.keys = sorted({k for v in self.variants for k in v} or {"chunk_tokens"})
        self._opened: list[Services] = []

    def __enter__(self) -> "VariantStores":
        return self

    def __exit__(self, *exc: object) -> None:
        for services in self._opened:
            services.close()
        self._opened.clear()

    def current_name(self) -> str:
        return f"{variant_name(_describe(self.services.settings, self.keys))} (current)"

    def _target(self, services: Services, name: str) -> EvalTarget:
        s = services.settings
        info = {**_describe(s, INDEX_SETTINGS), "data_dir": str(s.data_path), **services.store.stats()}
        if self.scope is None:
            return EvalTarget(name, services.retriever(), info)
        ids = self.scope.ids_in(services)
        info.update(scope=self.scope.names, scope_documents=len(ids))
        return EvalTarget(name, _ScopedSearcher(services.retriever(), ids), info)

    def targets(self, should_cancel: Callable[[], bool] = never) -> Generator[EvalProgress, None, list[EvalTarget]]:
        """The main store first, then each variant's store, indexing what is missing."""
        main = self.services
        out = [self._target(main, self.current_name())]
        paths = [d.path for d in main.store.documents() if d.status == DocumentStatus.INDEXED]
        for variant in self.variants:
            name = variant_name(variant)
            try:
                settings = main.settings.replace(**variant)  # validates
            except SettingsError as exc:
                raise SettingsError(f"variant {name}: {exc}") from exc
            if _describe(settings, self.keys) == _describe(main.settings, self.keys):
                continue  # the current settings: the main store already is this variant
            folder = main.settings.data_path / STORES_DIR / name.replace("/", "_")
            same = embedder_key(settings) == embedder_key(main.settings)  # one copy of the model, not one per store
            services = Services(settings.replace(data_dir=str(folder)), embedder=main.embedder if same else None)
            self._opened.append(services)
            yield from _sync_store(services, paths, name, should_cancel)
            out.append(self._target(services, name))
        return out


def _sync_store(services: Services, paths: Sequence[str], name: str,
                should_cancel: Callable[[], bool]) -> Generator[EvalProgress, None, None]:
    """Make the variant store hold exactly the main library's documents."""
    wanted = set(paths)
    for doc in services.store.documents():
        if doc.path not in wanted:
            services.store.remove_document(doc.id)
    if not paths:
        return
    report = yield from _indexing(services.ingestion(should_cancel).run(list(paths)), name)
    if report.cancelled:
        raise Cancelled("evaluation cancelled while indexing a variant")
    for outcome in report.failed:
        log.warning("variant %s: %s", name, outcome.message)


def _indexing(gen: Generator[IngestProgress, None, IngestReport], name: str
              ) -> Generator[EvalProgress, None, IngestReport]:
    """Ingestion progress as evaluation progress; returns the ingestion report."""
    events = Events(gen)
    for event in events:
        yield EvalProgress("indexing", event.file_index + int(event.is_final), event.file_count,
                           f"{name}: {Path(event.path).name} {event.stage.value}")
    assert events.result is not None  # the ingestion ran to its end
    return events.result


def run_labelled_evaluation(
    services: Services,
    questions_file: str | Path,
    *,
    variants: Sequence[Variant] = (),
    modes: Sequence[RetrievalMode | str] = ALL_MODES,
    answer_limit: int = 0,
    skip_missing: bool = False,
    should_cancel: Callable[[], bool] = never,
    scope: Sequence[str] = (),
) -> Generator[EvalProgress, None, EvalResult]:
    """Score a labelled question file on the main store and each variant store (searching only
    the collections and files ``scope`` names, if any)."""
    questions = load_questions(questions_file)
    resolved, skipped = resolve_questions(questions, services.store.documents(), str(questions_file),
                                          skip_missing=skip_missing)
    within = EvalScope(services, scope) if scope else None
    if within is not None:
        resolved, outside = within.split(resolved)
        skipped = sorted([*skipped, *outside], key=lambda s: s.line)
    with VariantStores(services, variants, within) as stores:
        targets = yield from stores.targets(should_cancel)
        # the user's answerer, at temperature 0 so the same questions give the same answers; also
        # for questions with gold figures, to check the passages and quotes it would give the model
        wanted = answer_limit > 0 or any(q.source.figures for q in resolved)
        answerer: Any = services.answerer(temperature=0.0) if wanted else None
        if answerer is not None and within is not None:
            answerer = _ScopedAnswerer(answerer, within.ids_in(services))
        return (yield from run_evaluation(resolved, targets, kind="labelled", source=str(questions_file),
                                          skipped=skipped, modes=modes, answerer=answerer,
                                          answer_limit=answer_limit, should_cancel=should_cancel))


def run_self_evaluation(
    services: Services,
    n: int = 100,
    should_cancel: Callable[[], bool] = never,
    *,
    variants: Sequence[Variant] = (),
    modes: Sequence[RetrievalMode | str] = ALL_MODES,
    seed: int = DEFAULT_SEED,
    method: str = "auto",
    scope: Sequence[str] = (),
) -> Generator[EvalProgress, None, EvalResult]:
    """Generate ``n`` questions from the library (chat model at temperature 0, template fallback)
    and score retrieval on them at page and document level, for each mode and variant. With a
    ``scope``, the questions come from its documents and every search stays in them."""
    within = EvalScope(services, scope) if scope else None
    chat_model = services.chat_model() if method != "template" else None
    with VariantStores(services, variants, within) as stores:
        targets = yield from stores.targets(should_cancel)
        return (yield from self_evaluate(services.store, targets, n, chat_model, seed=seed, method=method,
                                         modes=modes, should_cancel=should_cancel,
                                         doc_ids=within.ids_in(services) if within else None))
