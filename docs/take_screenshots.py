"""Screenshots of the real application for the README, taken on an X display (Xvfb).

    Xvfb :99 -screen 0 1440x900x24 &
    python -m desktop_rag --data-dir /tmp/gui-sec ingest ../shared/corpus/sec-10-q/docs
    DISPLAY=:99 python docs/take_screenshots.py --data-dir /tmp/gui-sec

Uses the real bundled models, asks a real question, and captures the whole screen with
ImageMagick's ``import`` (what a user would see), not a widget grab. Without an X display,
``--offscreen --out DIR`` grabs each window instead (to check the layout; not for the README).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
QUESTION = "What was Apple's total net sales for the quarter ended June 25, 2022?"
WIDTH, HEIGHT = 1440, 900


def pump(app, seconds: float) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def wait(app, condition, timeout_s: float = 900) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("screenshot step timed out")
        pump(app, 0.05)


class Camera:
    """Takes the screenshots: the whole X screen, or (offscreen) the window given."""

    def __init__(self, app, out: Path, offscreen: bool) -> None:  # noqa: ANN001
        self.app, self.out, self.offscreen = app, out, offscreen

    def shoot(self, name: str, window) -> None:  # noqa: ANN001
        pump(self.app, 1.0)
        path = self.out / name
        if self.offscreen:
            window.grab().save(str(path))
        else:
            subprocess.run(["import", "-window", "root", str(path)], check=True)
        print("wrote", path)


def new_window(app, data_dir: str):  # noqa: ANN001, ANN201
    from desktop_rag.app import create_window, setup_logging
    from desktop_rag.config import Settings
    from desktop_rag.model_cache import ModelState
    from desktop_rag.ui.notifications import NotificationManager

    log_file = setup_logging()
    window = create_window(Settings(data_dir=data_dir), NotificationManager(str(log_file)))
    window.setGeometry(0, 0, WIDTH, HEIGHT)
    window.show()
    window.activateWindow()
    wait(app, lambda: all(state in (ModelState.READY, ModelState.FAILED)
                          for state, _ in window.engine.model_states.values()))
    return window


def close(app, window) -> None:  # noqa: ANN001
    window.close()
    wait(app, lambda: window._closed)


def shoot_empty_library(camera: Camera) -> None:
    app = camera.app
    empty = new_window(app, tempfile.mkdtemp(prefix="empty-library-"))
    camera.shoot("empty-first-run.png", empty)
    close(app, empty)


def shoot_answer_and_page(camera: Camera, data_dir: str):  # noqa: ANN201
    """The main window after a real answer, then the page preview given most of the room."""
    app = camera.app
    for suffix in ("", "-wal", "-shm"):  # start with no saved conversations: one on screen
        Path(data_dir, "conversations.sqlite3" + suffix).unlink(missing_ok=True)
    window = new_window(app, data_dir)
    window.chat.question.setPlainText(QUESTION)
    window.chat.submit()
    wait(app, lambda: window.chats.worker is None)
    wait(app, lambda: window.sources.page_view.page is not None, 120)
    camera.shoot("main-window.png", window)

    window.splitter.setSizes([0, 560, 880])  # the library folded away: room for the page
    window.sources.splitter.setSizes([170, 680])
    pump(app, 0.5)
    window.sources.page_view.show_page(window.sources.page_view.page)  # re-scroll to the passage
    camera.shoot("page-preview.png", window)
    window.splitter.setSizes([430, 600, 410])
    return window


def shoot_settings_and_dark_mode(camera: Camera, window) -> None:  # noqa: ANN001
    from desktop_rag.ui.theme import dark_palette

    app = camera.app
    dialog = window.open_settings()
    dialog.move(window.geometry().center() - dialog.rect().center())
    camera.shoot("settings-dialog.png", dialog)
    dialog.reject()

    app.setPalette(dark_palette())
    pump(app, 0.5)
    camera.shoot("dark-mode.png", window)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True, help="a library with the SEC filings indexed")
    parser.add_argument("--offscreen", action="store_true", help="no X display: grab each window")
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNG files (default: docs/)")
    args = parser.parse_args()
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY"):
        sys.exit("run on an X display, e.g. DISPLAY=:99 under Xvfb (or use --offscreen)")
    os.environ["DESKTOP_RAG_CONFIG"] = str(Path(tempfile.mkdtemp()) / "settings.toml")
    from PySide6.QtWidgets import QApplication

    from desktop_rag.ui.theme import follow_system_scheme

    app = QApplication([sys.argv[0]])
    app.setApplicationName("Desktop RAG")
    follow_system_scheme(app)
    args.out.mkdir(parents=True, exist_ok=True)
    camera = Camera(app, args.out, args.offscreen)
    shoot_empty_library(camera)
    window = shoot_answer_and_page(camera, args.data_dir)
    shoot_settings_and_dark_mode(camera, window)
    close(app, window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
