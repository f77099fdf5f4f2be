"""Implementations of the CLI subcommands over the core (kept apart from argument parsing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop_rag.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, print_json
from desktop_rag.config import Settings
from desktop_rag.core.types import IngestReport, Stage
from desktop_rag.services import Services


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    services = Services(settings)
    with services:
        gen = services.ingestion().run(args.paths)
        bar = tqdm(total=0, unit="file", file=sys.stderr, dynamic_ncols=True, leave=True)
        report: IngestReport | None = None
        try:
            while True:
                event = next(gen)
                bar.total = event.file_count
                name = Path(event.path).name
                detail = f"{event.chunks_done}/{event.chunks_total} chunks" if event.chunks_total else ""
                bar.set_description_str(f"{name[:40]} {event.stage.value} {detail}".rstrip())
                if event.is_final:
                    bar.update(1)
                    if event.stage == Stage.FAILED:
                        bar.write(f"failed: {event.message}", file=sys.stderr)
        except StopIteration as stop:
            report = stop.value
        except KeyboardInterrupt:
            gen.close()  # runs the pipeline's cleanup: the FAISS cache is saved, SQLite is consistent
            bar.close()  # before the message, so it is not drawn over
            print("\ninterrupted: documents already indexed are kept; run the same command again to finish",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            bar.close()
    assert report is not None
    _print_ingest_summary(report)
    return EXIT_FAILED if report.failed else EXIT_OK


def _print_ingest_summary(report: IngestReport) -> None:
    pages = report.pages
    rate = f", {pages / report.seconds:.1f} pages/s" if pages and report.seconds else ""
    print(
        f"indexed {len(report.indexed)}, skipped {len(report.skipped)}, failed {len(report.failed)} "
        f"({pages} pages in {report.seconds:.1f} s{rate})",
        file=sys.stderr,
    )
    for outcome in report.skipped:
        print(f"  skipped {outcome.path}: {outcome.message}", file=sys.stderr)
    for outcome in report.failed:
        print(f"  FAILED  {outcome.message}", file=sys.stderr)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with Services(settings) as services:
        docs = services.store.documents()
        stats = services.store.stats()
    if args.json:
        print_json([
            {"file": d.name, "path": d.path, "pages": d.page_count, "chunks": d.chunk_count,
             "status": d.status, "error": d.error, "sha256": d.sha256, "size": d.size}
            for d in docs
        ])
        return EXIT_OK
    if not docs:
        print("The library is empty. Add PDFs with: desktop-rag ingest PATH...", file=sys.stderr)
        return EXIT_OK
    width = max(len(d.name) for d in docs)
    print(f"{'FILE':<{width}}  {'PAGES':>5}  {'CHUNKS':>6}  STATUS")
    for d in docs:
        status = d.status if d.status == "indexed" else f"{d.status}: {d.error}"
        print(f"{d.name:<{width}}  {d.page_count:>5}  {d.chunk_count:>6}  {status}")
    print(f"{stats['documents']} documents, {stats['pages']} pages, {stats['chunks']} chunks"
          + (f", {stats['failed']} failed" if stats["failed"] else ""))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    status = EXIT_OK
    with Services(settings) as services:
        docs = services.store.documents()
        for given in args.files:
            absolute = str(Path(given).expanduser().absolute())
            matches = [d for d in docs if d.path == absolute] or [d for d in docs if d.name == given]
            if not matches:
                print(f"error: {given}: not in the library (see 'desktop-rag list')", file=sys.stderr)
                status = EXIT_FAILED
                continue
            if len(matches) > 1:
                print(f"error: {given}: several documents have this name; give the full path:", file=sys.stderr)
                for d in matches:
                    print(f"  {d.path}", file=sys.stderr)
                status = EXIT_FAILED
                continue
            services.store.remove_document(matches[0].id)
            print(f"removed {matches[0].path}", file=sys.stderr)
    return status


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    with Services(settings) as services:
        hits = services.retriever().search(args.query, k=args.k or settings.top_k, mode=settings.retrieval_mode)
    if args.json:
        print_json([
            {"file": h.file, "page": h.page, "score": round(h.score, 6), "text": h.text,
             "path": h.path, "page_end": h.page_end, "chunk_id": h.chunk_id}
            for h in hits
        ])
        return EXIT_OK
    if not hits:
        print("no matching passages (is the library empty? see 'desktop-rag list')", file=sys.stderr)
    for rank, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())
        print(f"{rank}. {h.file}, page {h.page}  (score {h.score:.3f})\n   {snippet[:400]}\n")
    return EXIT_OK


__all__ = ["cmd_ingest", "cmd_list", "cmd_remove", "cmd_search", "EXIT_INTERRUPTED"]


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from desktop_rag.core.types import Answer

    import time

    stop = {"requested": False}
    with Services(settings) as services:
        answerer = services.answerer()
        started = time.perf_counter()
        answerer.warm_up()  # load both models first, so the timings below measure answering only
        load_ms = (time.perf_counter() - started) * 1000
        gen = answerer.ask(args.question, should_stop=lambda: stop["requested"])
        answer: Answer | None = None
        try:
            while True:
                event = next(gen)
                if event.kind == "token" and not args.json:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
        except StopIteration as done:
            answer = done.value
            answer.timings["load_ms"] = load_ms
        except KeyboardInterrupt:
            stop["requested"] = True
            gen.close()
            print("\nstopped", file=sys.stderr)
            return EXIT_INTERRUPTED
        model = services.chat_model()
        offload = getattr(model, "offload", None)
    assert answer is not None
    if args.json:
        print_json(answer_to_json(answer, model.name, offload.describe() if offload else "remote"))
        return EXIT_OK
    _print_sources(answer)
    return EXIT_OK


def answer_to_json(answer, model_name: str, offload: str) -> dict:  # noqa: ANN001 - an Answer
    timings = {k: round(v, 1) for k, v in answer.timings.items()}
    for key in ("retrieve_ms", "first_token_ms", "tokens_per_s"):
        timings.setdefault(key, None)
    return {
        "question": answer.question,
        "answer": answer.text,
        "citations": [
            {"n": c.number, "file": c.file, "page": c.page, "text": c.text, "chunk_id": c.chunk_id,
             "path": c.path, "start_offset": c.start_offset, "end_offset": c.end_offset}
            for c in answer.citations
        ],
        "unsupported": answer.unsupported,
        "sentences": [{"text": s.text, "citations": list(s.citations), "supported": s.supported}
                      for s in answer.sentences],
        "found_nothing": answer.found_nothing,
        "timings": timings,
        "model": model_name,
        "offload": offload,
    }


def _print_sources(answer) -> None:  # noqa: ANN001 - an Answer
    print()
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"  [{c.number}] {c.file}, page {c.page}\n      {' '.join(c.text.split())[:300]}")
    elif answer.passages:  # nothing the model wrote is backed by a passage: show what it was given
        print("\nNo passage supports this answer. The model was given:")
        for p in answer.passages:
            print(f"  [{p.number}] {p.file}, page {p.page}\n      {' '.join(p.text.split())[:300]}")
    if answer.unsupported:
        print("\nNot supported by any source (check these):")
        for sentence in answer.unsupported:
            print(f"  - {sentence}")


from desktop_rag.eval_command import cmd_eval  # noqa: E402,F401 - desktop-rag eval
