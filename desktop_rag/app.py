"""Wiring for the GUI: settings, logging, excepthooks, the QApplication and the main window.

``run_gui`` shows the window first and loads the models afterwards in a worker, so the window
is up in about a second and documents can be added while the language model is still loading.
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Sequence

from desktop_rag.config import APP_NAME, Settings, default_config_file, default_log_dir, load_settings
from desktop_rag.errors import SettingsError

log = logging.getLogger(__name__)

LOG_FILE_NAME = "desktop-rag.log"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "desktop-rag.svg"


def process_age_s() -> float:
    """Seconds since this process started (Linux: from /proc), else since this module loaded."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _LOADED_AT


_LOADED_AT = time.perf_counter()


def setup_logging(log_dir: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to a rotating file in the user log dir (and warnings to stderr); returns the file."""
    folder = log_dir or default_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    for old in [h for h in root.handlers if getattr(h, "_desktop_rag", False)]:
        root.removeHandler(old)
        old.close()
    handler._desktop_rag = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console._desktop_rag = True  # type: ignore[attr-defined]
    root.addHandler(console)
    return path


def install_excepthooks(notifications: Any) -> None:
    """Uncaught exceptions, on the GUI thread (slots) or any other thread, reach the user."""
    def on_exception(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        notifications.report_exception(exc.with_traceback(tb))

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread else "a background thread"
            notifications.report_exception(args.exc_value, f"in {name}")

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception


def ui_state_file() -> Path:
    """Window geometry, splitters, zoom: beside the settings file (so tests stay isolated)."""
    return default_config_file().with_name("window-state.ini")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="desktop-rag", description="Chat with your PDFs (the desktop app).")
    parser.add_argument("paths", nargs="*", help="PDF files or folders to add to the library")
    parser.add_argument("--data-dir", help="folder holding the library and conversations")
    parser.add_argument("--config", type=Path, help="settings file (default: the user config dir)")
    parser.add_argument("--report-startup", type=Path, help=argparse.SUPPRESS)  # benchmarks/bench_gui.py
    parser.add_argument("--quit-when-ready", action="store_true", help=argparse.SUPPRESS)
    args, _qt_args = parser.parse_known_args(list(argv))
    return args


def _startup_report(window: Any, path: Path | None, quit_when_ready: bool) -> None:
    """Record launch -> visible window and launch -> models ready (for the benchmark)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    from desktop_rag.model_cache import LLM, ModelState

    times: dict[str, float] = {}

    def write() -> None:
        if path is not None:
            path.write_text(json.dumps(times, indent=2), encoding="utf-8")

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
            if event.type() == QEvent.Type.Paint and "window_visible_s" not in times:
                times["window_visible_s"] = round(process_age_s(), 3)
                log.info("window visible %.2f s after launch", times["window_visible_s"])
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)

    def on_model_state(name: str, state: str, detail: str) -> None:
        if state in (ModelState.READY, ModelState.FAILED) and f"{name}_{state}_s" not in times:
            times[f"{name}_{state}_s"] = round(process_age_s(), 3)
            log.info("%s %s %.2f s after launch", name, state, times[f"{name}_{state}_s"])
            write()
            if name == LLM and quit_when_ready:
                QTimer.singleShot(0, window.close)

    window.engine.model_state_changed.connect(on_model_state)


def create_window(settings: Settings, notifications: Any, *, config_file: Path | None = None,
                  models: Any = None, load_models: bool = True) -> Any:
    from PySide6.QtCore import QSettings

    from desktop_rag.ui.main_window import MainWindow

    state = QSettings(str(ui_state_file()), QSettings.Format.IniFormat)
    return MainWindow(settings, notifications, state, models=models, config_file=config_file, load_models=load_models)


def run_gui(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    log_file = setup_logging()
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_rag.ui.notifications import NotificationManager
    from desktop_rag.ui.theme import follow_system_scheme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Desktop RAG")
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("desktop-rag")
    if ICON_PATH.is_file():
        app.setWindowIcon(QIcon(str(ICON_PATH)))
    follow_system_scheme(app)
    notifications = NotificationManager(str(log_file))
    install_excepthooks(notifications)
    settings_error = None
    try:
        settings = load_settings(args.config, {"data_dir": args.data_dir})
    except SettingsError as exc:
        settings_error = exc
        settings = Settings(data_dir=args.data_dir or "")
    log.info("starting the GUI; data folder %s, log %s", settings.data_path, log_file)
    window = create_window(settings, notifications, config_file=args.config)
    if args.report_startup or args.quit_when_ready:
        _startup_report(window, args.report_startup, args.quit_when_ready)
    window.show()
    if args.paths:
        window.add_paths(args.paths)
    if settings_error is not None:
        notifications.report_exception(settings_error, "The settings file was ignored")
    return app.exec()
