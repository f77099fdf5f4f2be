"""The chat: saved conversations, the transcript with streamed answers, the question box."""

from __future__ import annotations

import time
from typing import Sequence

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_rag.core.store.conversations import ConversationInfo, StoredMessage
from desktop_rag.core.types import Citation, Quote
from desktop_rag.ui.scope_selector import ScopeSelector
from desktop_rag.ui.transcript import (QUOTE_TIP, THINKING_TIP, UNQUOTED_TIP, UNSUPPORTED_TIP, Colors, parse_link,
                                      transcript_html)

WELCOME = ('<div align="center"><br><br><h2>Ask your documents</h2><p>Type a question below and press '
           "<b>Ctrl+Enter</b>.<br>The lines of your documents that answer come first, quoted as they are;<br>"
           "the model's answer streams in below them. Click a file and page, or the numbers after a "
           "sentence,<br>to see the passage on its page.</p></div>")
NO_DOCUMENTS = ('<div align="center"><br><br><h2>Start by adding documents</h2><p>Drop PDFs (scans too), Word, PowerPoint, '
                "e-book, Markdown, HTML or text files, or folders of them, on the <b>Library</b> on the left,<br>or press <b>Ctrl+O</b>. You can add documents while the "
                "models are still loading.<br>Once a document is indexed, ask about it here.</p></div>")

_TIPS = {"unsupported": UNSUPPORTED_TIP, "unquoted": UNQUOTED_TIP, "quote": QUOTE_TIP, "thinking": THINKING_TIP}


class ChatPanel(QWidget):
    question_submitted = Signal(str)
    stop_requested = Signal()
    new_chat_requested = Signal()
    conversation_selected = Signal(int)
    conversation_delete_requested = Signal(int)
    citation_activated = Signal(list, int)  # the answer's citations, the number clicked
    quote_activated = Signal(list, object)  # the answer's citations, the quote clicked (as a Citation)
    answer_selected = Signal(list)  # citations of an answer the user looked at

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messages: list[StoredMessage] = []
        self.streaming = StoredMessage(0, "assistant", "", 0.0)  # the answer being written: its quotes
        self.streamed_text = ""
        self.streamed_thinking = ""  # a reasoning model's <think> part of the answer being written
        self.expanded_thinking: set[int] = set()  # messages whose thinking is unfolded
        self.answering = False
        self.stopping = False
        self.has_documents = False
        self._build()
        self._update_state()
        self._render()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        side = self._build_sidebar()
        main = self._build_conversation()
        self._build_actions()
        self.splitter = QSplitter()
        self.splitter.addWidget(side)
        self.splitter.addWidget(main)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([170, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        order = (self.scope, self.question, self.send_button, self.stop_button, self.transcript, self.conversations,
                 self.new_chat_button, self.delete_button)
        for first, second in zip(order, order[1:], strict=False):
            self.setTabOrder(first, second)

    def _build_sidebar(self) -> QWidget:
        self.conversations = QListWidget()
        self.conversations.setAccessibleName("Saved conversations")
        self.conversations.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversations.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.conversations.itemActivated.connect(self._on_conversations_item_activated)
        self.conversations.itemClicked.connect(self._on_conversations_item_activated)
        self.new_chat_button = QPushButton("New chat")
        self.new_chat_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_chat_button.clicked.connect(self.new_chat_requested)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected conversation")
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("<b>Conversations</b>"))
        side_layout.addWidget(self.conversations, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_chat_button)
        row.addWidget(self.delete_button)
        side_layout.addLayout(row)
        return side

    def _build_conversation(self) -> QWidget:
        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.transcript.setOpenExternalLinks(False)
        self.transcript.setAccessibleName("Conversation transcript")
        self.transcript.anchorClicked.connect(self._on_transcript_anchor_clicked)
        self.transcript.highlighted.connect(self._on_transcript_highlighted)
        self.question = QPlainTextEdit()
        self.question.setPlaceholderText("Ask a question about your documents…  (Ctrl+Enter to send)")
        self.question.setAccessibleName("Question")
        self.question.setTabChangesFocus(True)
        self.question.setFixedHeight(self.question.fontMetrics().lineSpacing() * 3 + 16)
        self.question.textChanged.connect(self._update_state)
        self.status = QLabel()
        self.status.setAccessibleName("Answer status")
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send the question (Ctrl+Enter)")
        self.send_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowRight))
        self.send_button.clicked.connect(self.submit)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        self.stop_button.clicked.connect(self.stop)
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.transcript, 1)
        main_layout.addLayout(self._build_scope_row())
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        ask_row.addLayout(buttons)
        main_layout.addLayout(ask_row)
        return main

    def _build_scope_row(self) -> QHBoxLayout:
        """"Search in: [scope]" and, beside it, the answer's status."""
        self.scope = ScopeSelector()
        label = QLabel("Search &in:")
        label.setBuddy(self.scope)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.scope)
        row.addSpacing(12)
        row.addWidget(self.status, 1)
        return row

    def _build_actions(self) -> None:
        self.send_action = QAction("Send question", self)
        self.send_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.send_action.triggered.connect(self.submit)
        self.stop_action = QAction("Stop answer", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.triggered.connect(self.stop)
        self.new_chat_action = QAction("New chat", self)
        self.new_chat_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_chat_action.triggered.connect(self.new_chat_requested)
        for action in (self.send_action, self.stop_action, self.new_chat_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

    # ------------------------------------------------------------------ conversations

    def set_conversations(self, conversations: Sequence[ConversationInfo], current: int | None) -> None:
        self.conversations.blockSignals(True)
        self.conversations.clear()
        for conv in conversations:
            item = QListWidgetItem(conv.title)
            item.setData(Qt.ItemDataRole.UserRole, conv.id)
            item.setToolTip(f"{conv.title}\n{conv.message_count} messages, last "
                            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(conv.updated_at))}")
            self.conversations.addItem(item)
            if conv.id == current:
                item.setSelected(True)
                self.conversations.setCurrentItem(item)
        self.conversations.blockSignals(False)
        self.delete_button.setEnabled(bool(conversations))

    def _on_conversations_item_activated(self, item: QListWidgetItem) -> None:
        if not self.answering:
            self.conversation_selected.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _on_delete_button_clicked(self) -> None:
        item = self.conversations.currentItem()
        if item is not None and not self.answering:
            self.conversation_delete_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    # ------------------------------------------------------------------ transcript

    def show_messages(self, messages: Sequence[StoredMessage]) -> None:
        self.messages = list(messages)
        self.expanded_thinking.clear()
        self._render()
        for message in reversed(self.messages):
            if message.role == "assistant":
                self.answer_selected.emit(list(message.citations))
                break
        else:
            self.answer_selected.emit([])

    def set_has_documents(self, has: bool) -> None:
        if has != self.has_documents:
            self.has_documents = has
            if not self.messages and not self.answering:
                self._render()

    def _render(self) -> None:
        colors = Colors.from_palette(self.transcript.palette())
        if not self.messages and not self.answering:
            self.transcript.setHtml(WELCOME if self.has_documents else NO_DOCUMENTS)
            return
        streaming = self.streaming if self.answering else None
        self.transcript.setHtml(transcript_html(self.messages, colors, streaming=streaming,
                                                expanded=self.expanded_thinking))
        if self.answering and self.streamed_text:
            self._insert_streamed(self.streamed_text)
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.ensureCursorVisible()

    def _insert_streamed(self, text: str) -> None:
        cursor = QTextCursor(self.transcript.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())  # plain text: never interpreted as markup
        bar = self.transcript.verticalScrollBar()
        if bar.value() >= bar.maximum() - 40:
            bar.setValue(bar.maximum())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt naming
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            QTimer.singleShot(0, self._render)  # after the children have their new palette
        super().changeEvent(event)

    def _message_at(self, index: int) -> StoredMessage | None:
        """Message ``index`` of the transcript; the one past the last is the answer being written."""
        if 0 <= index < len(self.messages):
            return self.messages[index]
        return self.streaming if self.answering and index == len(self.messages) else None

    def _on_transcript_anchor_clicked(self, url: QUrl) -> None:
        link = parse_link(url.toString())
        message = self._message_at(link[1]) if link is not None else None
        if link is None or message is None:
            return
        kind, number, citations = link[0], link[2], list(message.citations)
        if kind == "thinking":  # fold or unfold the model's thinking
            self.expanded_thinking ^= {link[1]}
            self._render()
        elif kind == "cite":
            self.citation_activated.emit(citations, number)
        elif kind == "quote":
            if 0 <= number < len(message.quotes):
                self.quote_activated.emit(citations, message.quote_citation(number))
        else:  # a marked sentence
            QToolTip.showText(self.transcript.mapToGlobal(self.transcript.rect().center()), _TIPS[kind])
            self.answer_selected.emit(citations)

    def _on_transcript_highlighted(self, url: QUrl) -> None:
        link = parse_link(url.toString())
        if link and link[0] in _TIPS:
            QToolTip.showText(self.cursor().pos(), _TIPS[link[0]], self.transcript)
        elif link and link[0] == "cite":
            QToolTip.showText(self.cursor().pos(), f"Show source [{link[2]}]", self.transcript)

    # ------------------------------------------------------------------ asking

    def submit(self) -> None:
        text = self.question.toPlainText().strip()
        if not text or self.answering:
            return
        self.question_submitted.emit(text)

    def stop(self) -> None:
        if self.answering and not self.stopping:
            self.stop_requested.emit()

    def begin_answer(self, question: str, status: str = "Searching your documents…", scope: str = "") -> None:
        """Show the question and an empty answer that tokens are appended to; ``scope`` names what
        it searches (empty: everything)."""
        self.question.clear()
        self.messages.append(StoredMessage(0, "user", question, time.time()))
        self.answering, self.stopping, self.streamed_text, self.streamed_thinking = True, False, "", ""
        self.streaming = StoredMessage(0, "assistant", "", time.time(), extra={"scope": scope} if scope else {})
        self.status.setText(status)
        self._render()
        self._update_state()

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def mark_stopping(self) -> None:
        """Stop showing tokens at once; :meth:`end_answer` follows when the worker returns."""
        if self.answering:
            self.stopping = True
            self.status.setText("Stopping…")

    def show_quotes(self, quotes: Sequence[Quote], unsure: bool, passages: Sequence[Citation]) -> None:
        """Show what the documents say before the model writes (once per answer: one redraw).
        ``passages``: the passages given to the model, for the page a quote links to."""
        if not self.answering:
            return
        self.streaming = StoredMessage(0, "assistant", "", self.streaming.created_at, citations=tuple(passages),
                                       quotes=tuple(quotes), unsure=unsure, extra=self.streaming.extra)
        self._render()

    def append_token(self, text: str) -> None:
        if not self.answering or self.stopping:
            return  # tokens still queued after Stop are dropped
        if not self.streamed_text:
            self.status.setText("Writing the answer… (Esc to stop)")
        self.streamed_text += text
        self._insert_streamed(text)

    def append_thinking(self, text: str) -> None:
        """A piece of a reasoning model's thinking: kept, shown folded (one redraw when it starts)."""
        if not self.answering or self.stopping:
            return
        if not self.streamed_thinking:
            self.status.setText("The model is thinking… (Esc to stop)")
            self.streaming.extra["thinking"] = True
            self._render()
        self.streamed_thinking += text

    def end_answer(self, message: StoredMessage) -> None:
        """Replace the streamed text by the finished answer (markers, unsupported sentences)."""
        if self.streamed_thinking.strip():
            message.extra["thinking"] = self.streamed_thinking.strip()
        self.answering = self.stopping = False
        self.messages.append(message)
        self.status.setText("Stopped." if message.stopped else "")
        self._render()
        self._update_state()
        self.answer_selected.emit(list(message.citations))

    def _update_state(self) -> None:
        has_text = bool(self.question.toPlainText().strip())
        self.send_button.setEnabled(has_text and not self.answering)
        self.send_action.setEnabled(not self.answering)
        self.stop_button.setEnabled(self.answering)
        self.stop_action.setEnabled(self.answering)
        self.conversations.setEnabled(not self.answering)
        self.new_chat_button.setEnabled(not self.answering)
        self.delete_button.setEnabled(not self.answering and self.conversations.count() > 0)

    def focus_question(self) -> None:
        self.question.setFocus()

    def streamed(self) -> str:
        return self.streamed_text

    def last_message(self) -> StoredMessage | None:
        return self.messages[-1] if self.messages else None

    def rendered_text(self) -> str:
        return self.transcript.toPlainText()
