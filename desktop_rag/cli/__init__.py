"""The headless front end: ``desktop-rag [--data-dir DIR] COMMAND ...``.

The subcommands are listed once, in ``desktop_rag.cli.subcommands.SUBCOMMANDS``; the parser and
the dispatch below are built from that table, and a command's module (``library``, ``ask``,
``eval``) is imported only when it runs. ``output`` holds the exit codes, JSON output and the one
driver that runs core generators with a progress bar and Ctrl+C handling.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from desktop_rag.cli.output import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Interrupted
from desktop_rag.cli.subcommands import SUBCOMMANDS, Subcommand
from desktop_rag.config import Settings, load_settings
from desktop_rag.errors import DesktopRagError, ScopeError, SettingsError

# Settings a subcommand may override with an option of the same dest (absent options are None).
SETTING_OPTIONS = ("chunk_tokens", "chunk_overlap", "embedding_model", "llm_model", "n_gpu_layers", "n_threads",
                   "n_ctx", "max_tokens", "temperature", "top_k", "remote_base_url", "remote_model")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desktop-rag", description="Chat with your PDFs, offline.")
    parser.add_argument("--data-dir", help="library folder (default: the user data dir, or $DESKTOP_RAG_DATA_DIR)")
    parser.add_argument("--config", type=Path, help="settings TOML file (default: the user config dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.add_arguments(sub.add_parser(subcommand.name, help=subcommand.help))
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {"data_dir": args.data_dir}
    for name in SETTING_OPTIONS:
        overrides[name] = getattr(args, name, None)
    if getattr(args, "mode", None):
        overrides["retrieval_mode"] = args.mode
    if getattr(args, "n_gpu_layers", None) is not None:  # a count given by hand replaces the automatic choice
        overrides["auto_gpu_layers"] = False
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
    command = _subcommand(args.command).load()
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
        return command(args, settings)
    except Interrupted:  # the driver has closed the work and said so
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ScopeError as exc:  # --in names no document: a usage error
        print(f"desktop-rag: error: --in: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DesktopRagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _subcommand(name: str) -> Subcommand:
    return next(s for s in SUBCOMMANDS if s.name == name)
