"""The one table of subcommands: name, help, arguments, and where the code that runs it lives.

The parser (``desktop_rag.cli.build_parser``), the dispatch (``desktop_rag.cli.main``) and the
names that make ``python -m desktop_rag`` start the CLI rather than the GUI are all read from
``SUBCOMMANDS``. This module stays cheap to import (no argparse, no numpy, no command module):
a command's module is imported only when that command runs. A new subcommand is one entry here
and one function in a module beside this one.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from desktop_rag.config import MAX_TOP_K
from desktop_rag.core.types import RETRIEVAL_MODES, RetrievalMode

if TYPE_CHECKING:
    import argparse

    from desktop_rag.config import Settings

    Command = Callable[[argparse.Namespace, Settings], int]

# desktop_rag.core.eval.selfeval.METHODS, spelled here so `--help` does not import numpy
QUESTION_METHODS = ("auto", "llm", "template")


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    help: str
    target: str  # "module:function"; the function takes (args, settings) and returns the exit code
    add_arguments: Callable[["argparse.ArgumentParser"], None]

    def load(self) -> "Command":
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)


def passage_count(text: str) -> int:
    """``--k`` of every command: a whole number from 1; above MAX_TOP_K it is capped, with a note."""
    import argparse

    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of passages, not {text!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {k}")
    if k > MAX_TOP_K:
        print(f"note: --k {k} is more than the {MAX_TOP_K} passages a search gives at most; using {MAX_TOP_K}",
              file=sys.stderr)
    return min(k, MAX_TOP_K)


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _add_mode(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=RETRIEVAL_MODES,
                   help=f"retrieval mode (default: setting, {RetrievalMode.HYBRID.value})")


def _ingest_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files and folders; a folder's .pdf, .docx, .pptx, .epub, .md, .markdown, .html, .htm "
                        "and .txt files")
    into = p.add_mutually_exclusive_group()
    into.add_argument("--collection", metavar="NAME",
                      help="put every file in this collection (created if needed) instead of one per folder")
    into.add_argument("--no-collection", action="store_true",
                      help="do not make a collection of each folder given (the default does)")
    p.add_argument("--chunk-tokens", type=int, help="chunk size in embedder tokens")
    p.add_argument("--chunk-overlap", type=int, help="overlap between chunks in tokens")
    p.add_argument("--embedding-model", help="sentence-transformers model folder")


def _remove_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="path or file name as shown by 'list'")


def _add_scope(p: argparse.ArgumentParser) -> None:
    p.add_argument("--in", dest="scope", action="append", metavar="NAME",
                   help="search only this collection or document (a collection name, or a file name or path "
                        "as 'list' shows it; repeatable)")


def _search_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query")
    _add_scope(p)
    p.add_argument("--k", type=passage_count, default=None,
                   help=f"number of results, 1 to {MAX_TOP_K} (default: the top_k setting)")
    _add_mode(p)
    _add_json(p)


def _ask_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question")
    _add_scope(p)
    p.add_argument("--model", dest="llm_model", help="GGUF model file (default: the bundled SmolLM2-135M)")
    p.add_argument("--n-gpu-layers", type=int, help="layers to offload to the GPU: 0 = CPU only, -1 = all")
    p.add_argument("--threads", dest="n_threads", type=int,
                   help="CPU threads (default: the physical cores other programs leave free, checked per question)")
    p.add_argument("--n-ctx", type=int, help="context size in tokens")
    p.add_argument("--max-tokens", type=int, help="longest answer in tokens")
    p.add_argument("--temperature", type=float)
    p.add_argument("--k", dest="top_k", type=passage_count, metavar="K",
                   help=f"passages to retrieve, 1 to {MAX_TOP_K} (default: the top_k setting)")
    _add_mode(p)
    p.add_argument("--remote-url", dest="remote_base_url", help="OpenAI-compatible endpoint base URL (.../v1)")
    p.add_argument("--remote-model", help="model name at the remote endpoint")
    _add_json(p)


def _eval_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--questions", type=Path, metavar="FILE",
                        help="labelled questions: JSONL (question, answer, docs, pages) or a qna_data.csv-style CSV")
    source.add_argument("--generate", type=int, metavar="N",
                        help="self-evaluation: generate N questions from your library (its pages are the gold)")
    p.add_argument("--modes", default=",".join(RETRIEVAL_MODES),
                   help="comma-separated retrieval modes to compare (default: all of %(default)s)")
    p.add_argument("--variants", action="append", default=[], metavar="SPEC",
                   help="settings variants to compare with the current settings, e.g. chunk_tokens=128,chunk_tokens=254 "
                        "(commas separate variants, + joins settings); each gets its own index under "
                        "DATA_DIR/eval-stores/")
    p.add_argument("--answers", type=int, default=0, metavar="N",
                   help="also answer the first N questions that have a gold answer with the chat model "
                        "(temperature 0) and score the answers; slow (default 0)")
    p.add_argument("--skip-missing", action="store_true",
                   help="evaluate the other questions when some name files not in the library (they are listed)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed for --generate (default 0)")
    p.add_argument("--generator", choices=QUESTION_METHODS, default="auto",
                   help="who writes --generate questions: the chat model with a template fallback (auto), "
                        "only the model, or only the deterministic template")
    p.add_argument("--model", dest="llm_model", help="GGUF chat model for --answers and --generate")
    p.add_argument("--out", type=Path, metavar="DIR", help="write results.json and chart.png here")
    _add_scope(p)


def _collections_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list the collections with their document counts (the default)")
    _add_json(listing)
    show = actions.add_parser("show", help="list the documents of a collection")
    show.add_argument("name", metavar="NAME")
    _add_json(show)
    create = actions.add_parser("create", help="make a collection, with the documents given")
    create.add_argument("name", metavar="NAME")
    create.add_argument("files", nargs="*", metavar="FILE", help="file name or path as 'list' shows it")
    for action, what in (("add", "put documents in a collection"),
                         ("remove", "take documents out of a collection (they stay in the library)")):
        sub = actions.add_parser(action, help=what)
        sub.add_argument("name", metavar="NAME")
        sub.add_argument("files", nargs="+", metavar="FILE", help="file name or path as 'list' shows it")
    delete = actions.add_parser("delete", help="delete a collection (never its documents)")
    delete.add_argument("name", metavar="NAME")
    rename = actions.add_parser("rename", help="rename a collection")
    rename.add_argument("name", metavar="OLD")
    rename.add_argument("new_name", metavar="NEW")


def _watch_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    _add_json(actions.add_parser("list", help="list the watched folders (the default)"))
    add = actions.add_parser("add", help="watch a folder, and index what it holds now")
    add.add_argument("folder", metavar="FOLDER")
    add.add_argument("--no-index", action="store_true", help="only record it (the app indexes it when it starts)")
    remove = actions.add_parser("remove", help="stop watching a folder (its documents stay in the library)")
    remove.add_argument("folder", metavar="FOLDER")
    run = actions.add_parser("run", help="keep the watched folders indexed until Ctrl+C (what the app does)")
    run.add_argument("--quiet", type=float, default=1.5, metavar="SECONDS",
                     help="act on a file once it has not changed for this long (default %(default)s)")


def _models_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--folder", dest="folders", action="append", default=[], metavar="DIR",
                   help="also search this folder (repeatable; the model_folders setting keeps folders)")
    _add_json(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    download = actions.add_parser("download", help="download a GGUF model from a URL (resumable, checked)")
    download.add_argument("url", metavar="URL", help="link to a .gguf file, e.g. a Hugging Face file link")
    download.add_argument("--sha256", metavar="HEX", help="expected SHA-256 (default: the one the server publishes)")
    download.add_argument("--dir", type=Path, metavar="DIR", help="where to save it (default: the app's models folder)")


def _tune_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pairs", type=int, default=600, metavar="N",
                   help="question/passage pairs to write, a fifth held out to measure (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=1, metavar="E", help="training epochs (default: %(default)s)")
    p.add_argument("--learning-rate", type=float, default=2e-5, metavar="LR", help="(default: %(default)s)")
    p.add_argument("--time-limit", type=float, default=15.0, metavar="MIN",
                   help="minutes for the whole action; training stops early to keep to it (default: %(default)s)")
    p.add_argument("--questions", action="append", default=[], metavar="FILE",
                   help="labelled questions (JSONL or CSV, as for eval) to measure on as well (repeatable)")
    p.add_argument("--generator", choices=QUESTION_METHODS, default="auto",
                   help="who writes the training questions (default: %(default)s)")
    p.add_argument("--restart", action="store_true", help="drop an unfinished run's pairs and checkpoint")
    p.add_argument("--revert", action="store_true", help="return to the original embedding model")
    p.add_argument("--status", action="store_true", help="say which embedding model the library uses")
    _add_json(p)


_LIBRARY = "desktop_rag.cli.library"
_ASK = "desktop_rag.cli.ask"

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("ingest", "index documents (PDF, .docx, .pptx, .epub, .md, .html, .txt) and folders (recursive)", f"{_LIBRARY}:cmd_ingest", _ingest_arguments),
    Subcommand("list", "list indexed documents", f"{_LIBRARY}:cmd_list", _add_json),
    Subcommand("remove", "remove documents from the library", f"{_LIBRARY}:cmd_remove", _remove_arguments),
    Subcommand("collections", "list, make and change collections (named sets of documents)",
               "desktop_rag.cli.collections:cmd_collections", _collections_arguments),
    Subcommand("watch", "folders kept indexed by themselves: list, add, remove, run",
               "desktop_rag.cli.watch:cmd_watch", _watch_arguments),
    Subcommand("search", "show the passages that best match a query", f"{_ASK}:cmd_search", _search_arguments),
    Subcommand("ask", "answer a question from your documents, with cited sources", f"{_ASK}:cmd_ask",
               _ask_arguments),
    Subcommand("eval", "measure retrieval (and answer) quality on labelled or generated questions",
               "desktop_rag.cli.eval:cmd_eval", _eval_arguments),
    Subcommand("models", "list the GGUF models on this machine (other apps' too), or download one",
               "desktop_rag.cli.models:cmd_models", _models_arguments),
    Subcommand("tune", "adapt search to your documents: fine-tune the embedding model, measured, reversible",
               "desktop_rag.cli.tune:cmd_tune", _tune_arguments),
)

NAMES: frozenset[str] = frozenset(s.name for s in SUBCOMMANDS)
