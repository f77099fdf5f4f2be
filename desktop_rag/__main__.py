"""``python -m desktop_rag``: the GUI with no subcommand, the CLI with one."""

from __future__ import annotations

import sys


def gui_main() -> int:
    from desktop_rag.app import run_gui

    return run_gui(sys.argv[1:])


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--extract-worker"]:  # a frozen build runs its PDF parser child this way
        from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB
        from desktop_rag.core.ingest.extract import serve_worker

        serve_worker(int(args[1]) if len(args) > 1 else DEFAULT_EXTRACT_MEMORY_MB)
        return 0
    from desktop_rag.cli.subcommands import NAMES  # the table, not the commands: cheap to import

    if any(a in NAMES or a in ("-h", "--help") for a in args):
        from desktop_rag.cli import main as cli_main

        return cli_main(args)
    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
