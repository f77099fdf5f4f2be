"""Fixtures and helpers for the GUI tests: a real MainWindow over a temporary library, small fake models.

Not a conftest.py: a second module named ``conftest`` would replace ``tests/conftest.py`` in
``sys.modules`` and break ``from conftest import ...`` elsewhere. Test modules import the
fixtures they use from here.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Iterator, Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from desktop_rag.app import create_window  # noqa: E402
from desktop_rag.config import Settings  # noqa: E402
from desktop_rag.ui.notifications import NotificationManager  # noqa: E402
from desktop_rag.model_cache import ModelCache  # noqa: E402
from fakes import HashEmbedder, StreamingChatModel  # noqa: E402
from pdfs import write_pdf  # noqa: E402

WAIT_MS = 30_000  # generous: the machine may be busy; tests never depend on how fast things are

REPLY = "Widget revenue was 42 million dollars in the third quarter. The moon is made of green cheese."
WIDGET_PAGES = [
    "Quarterly report of the Widget Company. Widget revenue was 42 million dollars in the third quarter, "
    "up from 30 million dollars a year earlier. Revenue grew because more widgets were sold in Europe.",
    "Outlook. The company expects widget demand to stay strong next year. Costs of steel rose slightly.",
]


class GatedEmbedder(HashEmbedder):
    """Embeds the first ``free`` calls at once, then waits until the test opens the gate."""

    def __init__(self, free: int = 1) -> None:
        super().__init__()
        self.free = free
        self.calls = 0
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def embed(self, texts: Sequence[str]):  # noqa: ANN201
        self.calls += 1
        if self.calls > self.free:
            self.waiting.set()
            self.gate.wait(60)
        return super().embed(texts)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=str(data_dir))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "widgets.pdf", WIDGET_PAGES, title="Widget Company quarterly report")
    write_pdf(folder / "gardening.pdf", ["Tomatoes need full sun and regular watering to grow well.",
                                         "Prune roses in early spring before new growth starts."])
    return folder


@pytest.fixture
def make_window(qtbot, settings: Settings, tmp_path: Path) -> Iterator[Callable[..., QWidget]]:  # noqa: ANN001
    """Build a window; every window made is closed (and its workers finished) at the end."""
    windows: list[QWidget] = []

    def make(*, embedder: object | None = None, chat_model: object | None = None,
             settings_: Settings | None = None, load_models: bool = True) -> QWidget:
        s = settings_ or settings
        embedder = embedder or HashEmbedder()
        chat_model = chat_model or StreamingChatModel(REPLY)
        models = ModelCache(s, embedder_factory=lambda _s: embedder, chat_model_factory=lambda _s: chat_model)
        notifications = NotificationManager(str(tmp_path / "test.log"))
        window = create_window(s, notifications, models=models, load_models=load_models)
        window.show()  # not qtbot.addWidget: pytest-qt would delete it before its workers finish
        window.activateWindow()  # keyboard shortcuts go to the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
        windows.append(window)
        return window

    yield make
    for window in windows:
        close_window(qtbot, window)


def close_window(qtbot, window: QWidget) -> None:  # noqa: ANN001
    for dialog in getattr(window, "error_dialogs", []):
        dialog.close()
    if not window._closed:
        window.close()
        qtbot.waitUntil(lambda: window._closed, timeout=WAIT_MS)


def drop_paths(widget: QWidget, paths: Sequence[Path]) -> None:
    """A real drag and drop of local files onto ``widget``: drag-enter, then drop."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.rect().center())
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the drop target refused the files"
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def wait_idle(qtbot, window: QWidget) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not window.engine.busy, timeout=WAIT_MS)


def rows_by_name(window: QWidget) -> dict:
    return {r.name: r for r in window.library.model.rows()}


def index_docs(qtbot, window: QWidget, paths: Sequence[Path]) -> None:  # noqa: ANN001
    drop_paths(window.library, paths)
    qtbot.waitUntil(lambda: not window.engine.ingesting and window.engine.stats()["documents"] > 0, timeout=WAIT_MS)
    wait_idle(qtbot, window)
