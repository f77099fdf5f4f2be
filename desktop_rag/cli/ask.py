"""``desktop-rag search | ask``: the passages that match a query, and answers cited from them."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from typing import Any, Iterator, Sequence

from desktop_rag.cli.output import EXIT_INTERRUPTED, EXIT_OK, drive, print_json
from desktop_rag.config import Settings
from desktop_rag.core.answer.answerer import UNQUOTED_NOTE, UNSURE
from desktop_rag.core.answer.tidy import complete_sentences, tidy_answer
from desktop_rag.core.ingest.formats import place_label
from desktop_rag.core.search.scope import resolve_scope
from desktop_rag.core.types import Answer, AnswerEvent, Quote
from desktop_rag.errors import QuestionError
from desktop_rag.services import Services

ASK_INTERRUPTED = "\nstopped"


def _scope(args: argparse.Namespace, services: Services) -> list[int] | None:
    """The documents the collections and files ``--in`` names hold (None: the whole library);
    ScopeError for unknown names, EmptyScopeError when they hold no indexed document."""
    if not args.scope:
        return None
    store = services.store
    return resolve_scope(args.scope, store.documents(), store.collections.all())


def _require_text(text: str, what: str) -> None:
    """An empty query is refused before anything is opened or loaded."""
    if not text.strip():
        raise QuestionError(f"the {what} is empty")


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    _require_text(args.query, "query")
    with Services(settings) as services:
        scope = _scope(args, services)
        k = args.k if args.k is not None else settings.top_k
        hits = services.retriever().search(args.query, k=k, mode=settings.retrieval_mode, scope=scope)
        indexed = services.store.stats()["documents"]
    if args.json:
        print_json([
            {"file": h.file, "page": h.page, "score": round(h.score, 6), "text": h.text,
             "path": h.path, "page_end": h.page_end, "chunk_id": h.chunk_id, "label": h.label}
            for h in hits
        ])
        return EXIT_OK
    if not hits:
        print(_no_hits(indexed, bool(scope)), file=sys.stderr)
    for rank, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())
        print(f"{rank}. {h.file}, {place_label(h.path, h.page, h.page_end, h.label)}  (score {h.score:.3f})\n"
              f"   {snippet[:400]}\n")
    return EXIT_OK


def _no_hits(indexed: int, scoped: bool) -> str:
    if not indexed:
        return "no matching passages: the library has no indexed documents (add PDFs with: desktop-rag ingest PATH...)"
    where = "the documents searched" if scoped else f"the {indexed} indexed document{'s' if indexed != 1 else ''}"
    return f"no passage of {where} matches the query"


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    _require_text(args.question, "question")  # before the models load (seconds)
    with Services(settings) as services:
        scope = _scope(args, services)
        answerer = services.answerer()
        started = time.perf_counter()
        answerer.warm_up()  # load both models first, so the timings below measure answering only
        load_ms = (time.perf_counter() - started) * 1000
        printer = AnswerPrinter()
        with stop_on_ctrl_c() as stop:
            answer = drive(answerer.ask(args.question, should_stop=stop.is_set, scope=scope),
                           _ignore if args.json else printer, interrupted=ASK_INTERRUPTED)
        if stop.is_set():
            print(ASK_INTERRUPTED, file=sys.stderr)
            return EXIT_INTERRUPTED
        answer.timings["load_ms"] = load_ms
        model = services.chat_model()
        offload = getattr(model, "offload", None)
    if args.json:
        print_json(answer_to_json(answer, model.name, offload.describe() if offload else "remote"))
        return EXIT_OK
    printer.finish(answer.text)
    _print_sources(answer)
    return EXIT_OK


@contextlib.contextmanager
def stop_on_ctrl_c() -> Iterator[threading.Event]:
    """Ctrl+C sets the returned flag instead of raising: the answerer checks it between tokens and
    inside llama.cpp's compute (a KeyboardInterrupt raised there is swallowed by its C callback, and
    the run ended with a llama_decode error). A second Ctrl+C interrupts as usual."""
    stop = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


class AnswerPrinter:
    """Writes the quotes, then the model's answer as the finished answer reads, a sentence at a time.
    The window replaces its streamed text with the tidy copy; a terminal keeps what was written, and
    showed a repeated sentence and a cut-off "The" above the sources."""

    def __init__(self) -> None:
        self.text = self.shown = ""

    def __call__(self, event: AnswerEvent, _bar: None) -> None:
        if event.kind == "retrieved":
            _print_quotes(event.quotes)
        elif event.kind == "token":
            self.text += event.text
            self._write(tidy_answer(" ".join(complete_sentences(self.text)), cut_off=False))

    def finish(self, answer: str) -> None:
        """The rest of the finished answer; all of it, on a line of its own, if it does not go on from
        what was written (the model said nothing of its own, and the answer says so)."""
        if answer.startswith(self.shown):
            self._write(answer)
        else:
            sys.stdout.write(f"\n{answer}" if self.shown else answer)
            self.shown = answer

    def _write(self, kept: str) -> None:
        if len(kept) > len(self.shown) and kept.startswith(self.shown):
            sys.stdout.write(kept[len(self.shown):])
            sys.stdout.flush()
            self.shown = kept


def _print_quotes(quotes: Sequence[Quote]) -> None:
    """The lines of the documents that answer, verbatim, before the model's own words."""
    if not quotes:
        return
    print("From your documents:")
    for q in quotes:
        columns = f"\n      columns: {q.context}" if q.context else ""
        print(f"  \u201c{q.text}\u201d{columns}\n      {q.file}, {place_label(q.path, q.page, q.page, q.label)}")
    print("\nAnswer: ", end="", flush=True)


def _ignore(event: AnswerEvent, _bar: None) -> None:
    pass  # --json: stdout holds the JSON document only


def answer_to_json(answer: Answer, model_name: str, offload: str) -> dict[str, Any]:
    timings: dict[str, Any] = {k: round(v, 1) for k, v in answer.timings.items()}
    for key in ("retrieve_ms", "first_token_ms", "tokens_per_s"):
        timings.setdefault(key, None)
    return {
        "question": answer.question,
        "answer": answer.text,
        "citations": [
            {"n": c.number, "file": c.file, "page": c.page, "text": c.text, "chunk_id": c.chunk_id,
             "path": c.path, "start_offset": c.start_offset, "end_offset": c.end_offset, "label": c.label}
            for c in answer.citations
        ],
        "quotes": [
            {"text": q.text, "file": q.file, "page": q.page, "path": q.path, "start_offset": q.start_offset,
             "end_offset": q.end_offset, "passage": q.passage, "columns": q.context, "label": q.label}
            for q in answer.quotes
        ],
        "unsupported": answer.unsupported,
        "unquoted": answer.unquoted,
        "sentences": [{"text": s.text, "citations": list(s.citations), "supported": s.supported,
                       "unquoted": s.unquoted} for s in answer.sentences],
        "found_nothing": answer.found_nothing,
        "unsure": answer.unsure,
        "timings": timings,
        "model": model_name,
        "offload": offload,
        **({"thinking": answer.thinking} if answer.thinking else {}),
    }


def _print_sources(answer: Answer) -> None:
    print()
    if answer.unsure:
        print(f"\n{UNSURE}")
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  [{c.number}] {c.file}, {place_label(c.path, c.page, c.page_end, c.label)}\n"
                  f"      {' '.join(c.text.split())[:300]}")
    elif answer.passages:  # nothing the model wrote is backed by a passage: show what it was given
        print("\nNo passage supports this answer. The model was given:")
        for p in answer.passages:
            print(f"  [{p.number}] {p.file}, {place_label(p.path, p.page, p.page_end, p.label)}\n"
                  f"      {' '.join(p.text.split())[:300]}")
    if answer.unsupported:
        print("\nNot supported by any source (check these):")
        for sentence in answer.unsupported:
            print(f"  - {sentence}")
    if answer.unquoted:
        print(f"\n{UNQUOTED_NOTE}")
        for sentence in answer.unquoted:
            print(f"  - {sentence}")
