"""The headless front end: ``desktop-rag [--data-dir DIR] COMMAND ...``.

Results go to stdout (JSON with ``--json``, nothing else on stdout then); progress bars and
messages go to stderr. Exit codes: 0 success, 1 a file or the request failed, 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from desktop_rag.config import RETRIEVAL_MODES, Settings, load_settings
from desktop_rag.errors import DesktopRagError, SettingsError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desktop-rag", description="Chat with your PDFs, offline.")
    parser.add_argument("--data-dir", help="library folder (default: the user data dir, or $DESKTOP_RAG_DATA_DIR)")
    parser.add_argument("--config", type=Path, help="settings TOML file (default: the user config dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="index PDF files and folders (recursive)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--chunk-tokens", type=int, help="chunk size in embedder tokens")
    p.add_argument("--chunk-overlap", type=int, help="overlap between chunks in tokens")
    p.add_argument("--embedding-model", help="sentence-transformers model folder")

    p = sub.add_parser("list", help="list indexed documents")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove documents from the library")
    p.add_argument("files", nargs="+", metavar="FILE", help="path or file name as shown by 'list'")

    p = sub.add_parser("search", help="show the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=None, help="number of results (default: top_k setting)")
    p.add_argument("--mode", choices=RETRIEVAL_MODES, help="retrieval mode (default: setting, hybrid)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", help="answer a question from your documents, with cited sources")
    p.add_argument("question")
    p.add_argument("--model", dest="llm_model", help="GGUF model file (default: the bundled SmolLM2-135M)")
    p.add_argument("--n-gpu-layers", type=int, help="layers to offload to the GPU: 0 = CPU only, -1 = all")
    p.add_argument("--threads", dest="n_threads", type=int, help="CPU threads (default: all physical cores)")
    p.add_argument("--n-ctx", type=int, help="context size in tokens")
    p.add_argument("--max-tokens", type=int, help="longest answer in tokens")
    p.add_argument("--temperature", type=float)
    p.add_argument("--k", dest="top_k", type=int, help="passages to retrieve")
    p.add_argument("--mode", choices=RETRIEVAL_MODES, help="retrieval mode (default: setting, hybrid)")
    p.add_argument("--remote-url", dest="remote_base_url", help="OpenAI-compatible endpoint base URL (.../v1)")
    p.add_argument("--remote-model", help="model name at the remote endpoint")
    p.add_argument("--json", action="store_true")

    from desktop_rag.eval_command import add_eval_parser  # the eval command owns its arguments

    add_eval_parser(sub)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"data_dir": args.data_dir}
    for name in ("chunk_tokens", "chunk_overlap", "embedding_model", "llm_model", "n_gpu_layers", "n_threads",
                 "n_ctx", "max_tokens", "temperature", "top_k", "remote_base_url", "remote_model"):
        overrides[name] = getattr(args, name, None)
    if getattr(args, "mode", None):
        overrides["retrieval_mode"] = args.mode
    return load_settings(args.config, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from desktop_rag import commands

    try:
        load_settings(args.config)  # a broken settings file is an error (1), not a usage error
    except DesktopRagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:  # a bad value given on the command line
        print(f"desktop-rag: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return getattr(commands, f"cmd_{args.command}")(args, settings)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DesktopRagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
