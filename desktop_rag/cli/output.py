"""What the CLI shows and how it ends: exit codes, JSON on stdout, and the one driver of core work.

Results go to stdout (with ``--json``, nothing but the JSON document); progress bars and messages
go to stderr. Exit codes: 0 success, 1 a file or the request failed, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generator, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_SURROGATE = re.compile("[\ud800-\udfff]")

E = TypeVar("E")
R = TypeVar("R")


class Interrupted(KeyboardInterrupt):
    """Ctrl+C during a core generator, already handled: the work was closed and the user told.

    ``desktop_rag.cli.main`` turns it into exit code 130 without a second message.
    """


@dataclass(frozen=True, slots=True)
class BarStyle:
    """The progress bar on stderr: what it counts, and whether it stays on screen when done."""

    unit: str = "it"
    leave: bool = False


def print_json(value: Any) -> None:
    """``value`` as JSON on stdout. A path whose name is not UTF-8 (see
    :mod:`desktop_rag.core.filenames`) keeps its undecodable bytes as ``\\udcXX`` escapes: valid JSON,
    and the exact file for a program that reads it back (Python's ``os.fsencode``)."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    sys.stdout.write(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def drive(
    gen: Generator[E, None, R],
    show: Callable[[E, "tqdm | None"], None],
    *,
    interrupted: str,
    bar: BarStyle | None = None,
) -> R:
    """Run a core generator to its result, calling ``show(event, bar)`` for every event it yields.

    With a ``bar`` style, a tqdm bar is drawn on stderr (``show`` updates it); without one, ``show``
    gets ``None``. On Ctrl+C the generator is closed, so its own cleanup runs (ingestion keeps
    what is indexed and saves the vector index, answering stops), the bar is removed, the
    ``interrupted`` message is printed on stderr and ``Interrupted`` is raised: exit code 130.
    """
    progress = _open_bar(bar)
    try:
        while True:
            show(next(gen), progress)
    except StopIteration as done:
        return done.value
    except KeyboardInterrupt:
        gen.close()
        if progress is not None:
            progress.close()  # before the message, so the bar does not draw over it
        print(interrupted, file=sys.stderr)
        raise Interrupted from None
    finally:
        if progress is not None:
            progress.close()


def _open_bar(style: BarStyle | None) -> "tqdm | None":
    if style is None:
        return None
    from tqdm import tqdm  # only commands that show progress pay for it

    return tqdm(total=0, unit=style.unit, file=sys.stderr, dynamic_ncols=True, leave=style.leave)
