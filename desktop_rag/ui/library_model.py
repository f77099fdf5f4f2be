"""The library table's Qt model: stored documents plus the live state of files being indexed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionProgressBar, QStyleOptionViewItem

from desktop_rag.core.filenames import display_name, display_path
from desktop_rag.core.types import DocumentInfo, DocumentStatus, IngestProgress, Stage

Index = QModelIndex | QPersistentModelIndex

NAME, STATUS, PROGRESS, PAGES, CHUNKS = range(5)
HEADERS = ("Document", "Status", "Progress", "Pages", "Chunks")
BUSY = -1.0  # progress of a step with no measurable progress (extracting): a busy bar
FAILED_COLOR = QColor(214, 69, 65)
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1

_STAGE_FRACTION = {Stage.QUEUED: 0.0, Stage.HASHING: 0.02, Stage.EXTRACTING: BUSY, Stage.CHUNKING: 0.2,
                   Stage.STORING: 0.97}
_LABELS = {Stage.QUEUED: "Queued", Stage.HASHING: "Checking", Stage.EXTRACTING: "Extracting text",
           Stage.CHUNKING: "Splitting", Stage.EMBEDDING: "Embedding", Stage.STORING: "Saving",
           Stage.INDEXED: "Indexed", Stage.SKIPPED: "Skipped", Stage.FAILED: "Failed", Stage.CANCELLED: "Cancelled"}
IN_PROGRESS = frozenset({Stage.HASHING, Stage.EXTRACTING, Stage.CHUNKING, Stage.EMBEDDING, Stage.STORING})
NOT_INDEXED = frozenset({Stage.FAILED, Stage.SKIPPED, Stage.CANCELLED})  # rows with a reason to show


def progress_fraction(event: IngestProgress) -> float:
    """0..1 for one file (or BUSY), from its stage and chunk counts."""
    if event.is_final:
        return 1.0
    if event.stage == Stage.EMBEDDING:
        done = event.chunks_done / event.chunks_total if event.chunks_total else 0.0
        return 0.25 + 0.7 * done
    if event.stage == Stage.EXTRACTING and event.pages_total:  # scanned pages read by OCR, one by one
        return 0.02 + 0.18 * event.pages_done / event.pages_total
    return _STAGE_FRACTION.get(event.stage, 0.0)


@dataclass(frozen=True, slots=True)
class DocumentRow:
    path: str
    name: str
    status: Stage
    message: str = ""
    progress: float = 0.0
    pages: int = 0
    chunks: int = 0
    doc_id: int | None = None
    chunks_done: int = 0
    ocr_pages: int = 0  # pages read by OCR (scans)

    @property
    def status_text(self) -> str:
        label = _LABELS[self.status]
        if self.status == Stage.EMBEDDING and self.chunks:
            return f"{label} {self.chunks_done}/{self.chunks} chunks"
        if self.status == Stage.SKIPPED:
            return f"Skipped: {self.message}" if self.message else label
        if self.status == Stage.EXTRACTING and self.message:  # "reading page 3 of 40 (OCR)"
            return self.message[:1].upper() + self.message[1:] + "…"
        if self.status == Stage.INDEXED and self.ocr_pages:
            some = f"{self.ocr_pages} page{'s' if self.ocr_pages != 1 else ''}"
            return f"{label} (OCR)" if self.ocr_pages >= self.pages else f"{label} (OCR: {some})"
        if self.status in (Stage.FAILED, Stage.CANCELLED) and self.message:
            return f"{label}: {_short_reason(self.message, self.name)}"
        return label + ("…" if self.status in IN_PROGRESS else "")

    @property
    def busy(self) -> bool:
        return self.status in IN_PROGRESS or self.status == Stage.QUEUED


def _short_reason(message: str, name: str) -> str:
    """Error messages start with the file's path or name; the row already shows it."""
    prefix = name + ": "
    return message.split(prefix, 1)[1] if prefix in message else message


def row_from_document(doc: DocumentInfo) -> DocumentRow:
    indexed = doc.status == DocumentStatus.INDEXED
    return DocumentRow(doc.path, doc.name, Stage.INDEXED if indexed else Stage.FAILED, doc.error,
                       1.0 if indexed else 0.0, doc.page_count, doc.chunk_count, doc.id, ocr_pages=doc.ocr_pages)


class DocumentTableModel(QAbstractTableModel):
    """One row per file: stored documents plus files queued or being indexed in this session."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[DocumentRow] = []
        self._by_path: dict[str, int] = {}
        self.session: set[str] = set()  # files queued since the queue was last empty
        self.collection_names: dict[int, list[str]] = {}  # doc id -> its collections (for the tooltip)

    # -------------------------------------------------------------- Qt interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt naming
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.ToolTipRole and col == NAME:
            names = self.collection_names.get(row.doc_id, []) if row.doc_id is not None else []
            return display_path(row.path) + (f"\nCollections: {', '.join(names)}" if names else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = row.status_text
            return f"{tip}\n{row.message}" if row.message and row.message not in tip else tip
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS and row.status == Stage.FAILED:
            return FAILED_COLOR
        if role == Qt.ItemDataRole.DecorationRole and col == STATUS:
            return _status_icon(row.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (PAGES, CHUNKS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PROGRESS_ROLE:
            return row.progress if row.busy else None  # a bar only while there is progress to show
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.name}, {row.status_text}"
        return None

    @staticmethod
    def _display(row: DocumentRow, col: int) -> Any:
        if col == NAME:
            return row.name
        if col == STATUS:
            return row.status_text
        if col == PROGRESS:
            return ""
        if col == PAGES:
            return row.pages or ""
        if col == CHUNKS:
            return row.chunks or ""
        return None

    # -------------------------------------------------------------- updates

    def rows(self) -> list[DocumentRow]:
        return list(self._rows)

    def row(self, index: int) -> DocumentRow:
        return self._rows[index]

    def row_for(self, path: str) -> DocumentRow | None:
        i = self._by_path.get(path)
        return None if i is None else self._rows[i]

    def _set(self, new: DocumentRow) -> None:
        i = self._by_path.get(new.path)
        if i is None:
            self._append([new])
        elif self._rows[i] != new:
            self._rows[i] = new
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(HEADERS) - 1))

    def _append(self, rows: Sequence[DocumentRow]) -> None:
        """New rows at the end in one insertion (one signal for the views, not one per row)."""
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(rows) - 1)
        for r in rows:
            self._by_path[r.path] = len(self._rows)
            self._rows.append(r)
        self.endInsertRows()

    def sync_documents(self, documents: Sequence[DocumentInfo]) -> None:
        """Show what the store holds; rows being worked on, and this session's skipped or
        cancelled files (which the store does not hold), keep their live state."""
        stored = {d.path: d for d in documents}
        rows: list[DocumentRow] = []
        for r in self._rows:
            doc = stored.pop(r.path, None)
            session_only = doc is None and r.doc_id is None and r.status in (Stage.CANCELLED, Stage.FAILED)
            if r.busy or r.status == Stage.SKIPPED or session_only:
                rows.append(r)
            elif doc is not None:
                rows.append(row_from_document(doc))
        rows.extend(row_from_document(d) for d in stored.values())
        kept = len(self._rows)
        if [r.path for r in rows[:kept]] == [r.path for r in self._rows]:
            for r in rows[:kept]:  # nothing removed: update in place so the selection survives
                self._set(r)
            self._append(rows[kept:])
            return
        self.beginResetModel()
        self._rows = rows
        self._by_path = {r.path: i for i, r in enumerate(rows)}
        self.endResetModel()

    def drop_rows(self, paths: Sequence[str]) -> None:
        """Forget rows the store does not hold (a removed skipped or cancelled file)."""
        gone = set(paths)
        self.beginResetModel()
        self._rows = [r for r in self._rows if r.path not in gone]
        self._by_path = {r.path: i for i, r in enumerate(self._rows)}
        self.session.difference_update(gone)
        self.endResetModel()

    def mark_queued(self, paths: Sequence[str]) -> None:
        if not any(r.busy for r in self._rows):
            self.session = set()
        self.session.update(paths)
        new: dict[str, DocumentRow] = {}
        for path in paths:  # no doc_id: a re-indexed file is not in the store until it is done
            row = DocumentRow(path, display_name(path), Stage.QUEUED)
            if path in self._by_path:
                self._set(row)
            else:
                new[path] = row
        self._append(list(new.values()))

    def mark_dropped(self, paths: Sequence[str], status: Stage = Stage.CANCELLED, reason: str = "") -> None:
        """Rows that will not be indexed now (cancelled, or the whole run failed)."""
        for path in paths:
            old = self.row_for(path)
            if old is not None and old.busy:
                self._set(replace(old, status=status, message=reason, progress=0.0))

    def apply_progress(self, event: IngestProgress) -> None:
        old = self.row_for(event.path) or DocumentRow(event.path, display_name(event.path), Stage.QUEUED)
        stage = event.stage
        chunks = event.chunks_total or (old.chunks if stage not in (Stage.INDEXED, Stage.SKIPPED) else 0)
        self._set(replace(old, status=stage, message=event.message, progress=progress_fraction(event),
                          pages=event.pages_total or old.pages, chunks=chunks, chunks_done=event.chunks_done))

    def overall_progress(self) -> tuple[int, int, float]:
        """(files finished, files queued since the queue was last empty, fraction done)."""
        rows = [self._rows[self._by_path[p]] for p in self.session if p in self._by_path]
        if not rows:
            return 0, 0, 1.0
        done = sum(1 for r in rows if not r.busy)
        partial = sum(0.1 if r.progress == BUSY else r.progress for r in rows if r.busy)
        return done, len(rows), (done + partial) / len(rows)


_ICONS: dict[Stage, Any] = {}


def _status_icon(status: Stage) -> Any:
    if status not in _ICONS:
        _ICONS[status] = _make_status_icon(status)
    return _ICONS[status]


def _make_status_icon(status: Stage) -> Any:
    style = QApplication.style()
    icon = {Stage.INDEXED: QStyle.StandardPixmap.SP_DialogApplyButton,
            Stage.FAILED: QStyle.StandardPixmap.SP_MessageBoxCritical,
            Stage.SKIPPED: QStyle.StandardPixmap.SP_MessageBoxInformation,
            Stage.CANCELLED: QStyle.StandardPixmap.SP_DialogCancelButton}.get(status)
    if icon is None:
        icon = QStyle.StandardPixmap.SP_BrowserReload if status in IN_PROGRESS else QStyle.StandardPixmap.SP_FileIcon
    return style.standardIcon(icon)


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a progress bar (busy while a step has no measure)."""

    def paint(self, painter: Any, option: QStyleOptionViewItem, index: Index) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            return super().paint(painter, option, index)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        bar.state = option.state
        bar.palette = option.palette
        bar.minimum, bar.maximum = (0, 0) if value == BUSY else (0, 100)
        bar.progress = 0 if value == BUSY else int(value * 100)
        bar.textVisible = value != BUSY
        bar.text = "" if value == BUSY else f"{value:.0%}"
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.color(QPalette.ColorRole.Highlight))
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)
