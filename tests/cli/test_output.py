"""The CLI's one driver of core generators, the table of subcommands, and the exit codes they lead to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Generator

import pytest

import desktop_rag
from desktop_rag.cli import build_parser, main
from desktop_rag.cli.output import EXIT_INTERRUPTED, BarStyle, Interrupted, drive
from desktop_rag.cli.subcommands import NAMES, SUBCOMMANDS

REPO_ROOT = Path(desktop_rag.__file__).resolve().parents[1]


def counting(n: int, closed: list[bool]) -> Generator[int, None, str]:
    try:
        for i in range(n):
            yield i
    finally:
        closed.append(True)
    return f"counted {n}"


def test_drive_shows_every_event_and_returns_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, bool]] = []
    result = drive(counting(3, []), lambda event, bar: seen.append((event, bar is None)), interrupted="x")
    assert result == "counted 3" and seen == [(0, True), (1, True), (2, True)]
    assert capsys.readouterr() == ("", "")  # no bar asked for: nothing drawn


def test_drive_draws_a_bar_on_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    def show(event: int, bar: object) -> None:
        bar.total = 3  # type: ignore[attr-defined]
        bar.update(1)  # type: ignore[attr-defined]

    assert drive(counting(3, []), show, bar=BarStyle(unit="file", leave=True), interrupted="x") == "counted 3"
    out, err = capsys.readouterr()
    assert out == "" and "3/3" in err and "file" in err


def test_ctrl_c_closes_the_generator_says_so_and_raises_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    closed: list[bool] = []

    def show(event: int, bar: object) -> None:
        if event == 1:
            raise KeyboardInterrupt  # what Ctrl+C looks like from inside the loop

    with pytest.raises(Interrupted):
        drive(counting(5, closed), show, bar=BarStyle(), interrupted="\nstopped here")
    assert closed == [True], "the generator's cleanup ran"
    assert capsys.readouterr().err.endswith("\nstopped here\n")


def test_an_interrupted_command_exits_130_with_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object, settings: object) -> int:
        raise Interrupted

    def ctrl_c(args: object, settings: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("desktop_rag.cli.library.cmd_list", interrupted)
    assert main(["--data-dir", str(tmp_path), "list"]) == EXIT_INTERRUPTED
    assert "interrupted" not in capsys.readouterr().err  # the driver already said what happened
    monkeypatch.setattr("desktop_rag.cli.library.cmd_list", ctrl_c)
    assert main(["--data-dir", str(tmp_path), "list"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "\ninterrupted\n"


def test_the_parser_and_the_dispatch_come_from_the_one_table() -> None:
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == [s.name for s in SUBCOMMANDS]
    assert {"ingest", "list", "remove", "collections", "search", "ask", "eval", "watch"} <= NAMES
    for subcommand in SUBCOMMANDS:
        assert callable(subcommand.load()), subcommand.target


def test_help_imports_neither_the_commands_nor_numpy() -> None:
    script = (
        "import json, sys\n"
        "from desktop_rag.__main__ import main\n"
        "sys.argv = ['desktop-rag', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'torch', 'desktop_rag.services', 'desktop_rag.cli.library', 'desktop_rag.cli.ask',\n"
        "         'desktop_rag.cli.eval', 'desktop_rag.cli.collections')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_ctrl_c_while_asking_sets_the_stop_flag_and_a_second_one_interrupts() -> None:
    import os
    import signal

    from desktop_rag.cli.ask import stop_on_ctrl_c

    before = signal.getsignal(signal.SIGINT)
    with stop_on_ctrl_c() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
