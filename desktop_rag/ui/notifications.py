"""The one place every error lands (after napari's notification manager).

Worker errors, failed files, ``sys.excepthook`` and ``threading.excepthook`` all call
:meth:`NotificationManager.report_exception` or :meth:`NotificationManager.notify`, from any
thread. Expected errors (a :class:`~desktop_rag.errors.DesktopRagError`: a bad PDF, a missing
model) are shown inline in the window's banner; anything else is a bug and gets a dialog with
the traceback and the path of the log file. Everything is logged; nothing is swallowed.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QStyle, QToolButton, QWidget

from desktop_rag.errors import DesktopRagError

log = logging.getLogger(__name__)


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Action:
    label: str
    callback: Callable[[], None]


@dataclass(frozen=True)
class Notification:
    message: str
    severity: Severity = Severity.INFO
    details: str = ""  # a traceback, for unexpected errors
    expected: bool = True  # False: a bug; shown in a dialog with details
    actions: tuple[Action, ...] = field(default_factory=tuple)


class NotificationManager(QObject):
    """Thread-safe: ``notified`` is emitted from any thread and delivered on the GUI thread."""

    notified = Signal(object)  # Notification

    def __init__(self, log_file: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file

    def notify(self, message: str, severity: Severity = Severity.INFO, *, actions: tuple[Action, ...] = ()) -> None:
        log.log(logging.WARNING if severity != Severity.INFO else logging.INFO, "%s", message)
        self.notified.emit(Notification(message, severity, actions=actions))

    def report_exception(self, exc: BaseException, context: str = "", *, actions: tuple[Action, ...] = ()) -> None:
        """Show ``exc`` to the user: inline if it is theirs to fix, in a dialog if it is a bug."""
        prefix = f"{context}: " if context else ""
        if isinstance(exc, DesktopRagError):
            log.warning("%s%s", prefix, exc)
            self.notified.emit(Notification(f"{prefix}{exc}", Severity.ERROR, actions=actions))
            return
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("unexpected error %s%s\n%s", prefix, exc, details)
        message = f"Unexpected error {prefix}{type(exc).__name__}: {exc}"
        self.notified.emit(Notification(message, Severity.ERROR, details, expected=False, actions=actions))


class NotificationBanner(QFrame):
    """The inline strip above the panels: the latest message, its actions, and a close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names and model output
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._action_buttons: list[QPushButton] = []
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss (Esc in the banner)")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        self._button_row = QHBoxLayout()
        layout.addLayout(self._button_row)
        layout.addWidget(self.close_button)
        self.hide()

    @property
    def message(self) -> str:
        return self.label.text() if self.isVisibleTo(self.parentWidget()) else ""

    def show_notification(self, notification: Notification) -> None:
        icons = {Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
                 Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
                 Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical}
        self.icon.setPixmap(self.style().standardIcon(icons[notification.severity]).pixmap(20, 20))
        self.label.setText(notification.message)
        self.setProperty("severity", notification.severity.value)
        for button in self._action_buttons:
            button.deleteLater()
        self._action_buttons = []
        for action in notification.actions:
            button = QPushButton(action.label)
            button.clicked.connect(action.callback)
            button.clicked.connect(self.hide)
            self._button_row.addWidget(button)
            self._action_buttons.append(button)
        self.show()

    @property
    def action_buttons(self) -> list[QPushButton]:
        return list(self._action_buttons)


def show_error_dialog(parent: QWidget, notification: Notification, log_file: str) -> QMessageBox:
    """A non-blocking dialog for an unexpected error: message, log file path, traceback."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Unexpected error")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(notification.message)
    box.setInformativeText(
        "This is a bug in desktop-rag, not something you did. Your library is safe.\n"
        f"The details are in the log file:\n{log_file or '(no log file)'}"
    )
    box.setDetailedText(notification.details)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()  # not exec(): background work and other windows keep running
    return box
