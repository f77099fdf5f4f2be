"""Connects the chat and sources panels to the engine and the saved conversations."""

from __future__ import annotations

import logging
from functools import partial
from typing import Callable, Sequence

from PySide6.QtCore import QObject

from desktop_rag.core.answer.citations import citation_from_passage
from desktop_rag.core.ingest.render import RenderedPage
from desktop_rag.core.store.conversations import ConversationStore, StoredMessage, quote_citation, stored_from_answer
from desktop_rag.core.types import Answer, AnswerEvent, Citation, Quote
from desktop_rag.errors import DesktopRagError
from desktop_rag.model_cache import LLM, ModelState
from desktop_rag.ui.chat_panel import ChatPanel
from desktop_rag.ui.engine import Engine
from desktop_rag.ui.page_view import open_in_system_viewer
from desktop_rag.ui.sources_panel import SourcesPanel
from desktop_rag.ui.workers import GeneratorWorker

log = logging.getLogger(__name__)


class ChatController(QObject):
    def __init__(self, engine: Engine, chat: ChatPanel, sources: SourcesPanel,
                 show_status: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.chat, self.sources, self.show_status = engine, chat, sources, show_status
        self.conversations = ConversationStore(engine.settings.data_path)
        self.current: int | None = None
        self.worker: GeneratorWorker | None = None
        self._question = ""
        self._scope = ""  # what the answer being written searches, as shown with it ("": everything)
        self._renders = 0  # renders started: only the latest one's page is shown
        self._passages: list[Citation] = []
        self._quotes: tuple[Quote, ...] = ()  # of the answer being written, kept if it fails
        chat.question_submitted.connect(self._on_chat_question_submitted)
        chat.stop_requested.connect(self._on_chat_stop_requested)
        chat.new_chat_requested.connect(self._on_chat_new_chat_requested)
        chat.conversation_selected.connect(self._on_chat_conversation_selected)
        chat.conversation_delete_requested.connect(self._on_chat_conversation_delete_requested)
        chat.citation_activated.connect(self._on_chat_citation_activated)
        chat.quote_activated.connect(self._on_chat_quote_activated)
        chat.answer_selected.connect(self._on_chat_answer_selected)
        sources.source_activated.connect(self._on_sources_source_activated)
        sources.open_requested.connect(self._on_sources_open_requested)
        engine.data_dir_changed.connect(self._on_engine_data_dir_changed)
        self.refresh_list()

    # ------------------------------------------------------------------ conversations

    def refresh_list(self) -> None:
        self.chat.set_conversations(self.conversations.conversations(), self.current)

    def _on_chat_new_chat_requested(self) -> None:
        if self.worker is not None:
            return
        self.current = None
        self.chat.show_messages([])
        self.refresh_list()
        self.chat.focus_question()

    def _on_chat_conversation_selected(self, conversation_id: int) -> None:
        if self.worker is not None:
            return
        self.current = conversation_id
        self.chat.show_messages(self.conversations.messages(conversation_id))
        self.refresh_list()

    def _on_chat_conversation_delete_requested(self, conversation_id: int) -> None:
        self.conversations.delete(conversation_id)
        if conversation_id == self.current:
            self.current = None
            self.chat.show_messages([])
        self.refresh_list()
        self.show_status("Conversation deleted")

    def _on_engine_data_dir_changed(self) -> None:
        self.conversations.close()
        self.conversations = ConversationStore(self.engine.settings.data_path)
        self.current = None
        self.chat.show_messages([])
        self.refresh_list()

    # ------------------------------------------------------------------ asking

    def _on_chat_question_submitted(self, question: str) -> None:
        if self.worker is not None:
            return
        if self.current is None:
            self.current = self.conversations.create(question)
        self.conversations.add_question(self.current, question)
        waiting = self.engine.model_states[LLM][0] == ModelState.LOADING
        scope = self.chat.scope.scope()
        self._scope = "" if scope.everything else scope.label
        self.chat.begin_answer(question, "Waiting for the language model to finish loading…" if waiting
                               else "Searching your documents…", scope=self._scope)
        self._question, self._passages, self._quotes = question, [], ()
        self.worker = self.engine.ask(
            question, scope, yielded=self._on_ask_worker_yielded, returned=self._on_ask_worker_returned,
            aborted=self._on_ask_worker_aborted, errored=self._on_ask_worker_errored,
            finished=self._on_ask_worker_finished)
        self.refresh_list()

    def _on_chat_stop_requested(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop now: no more tokens are shown; the worker ends with the partial answer shortly."""
        if self.worker is not None:
            self.worker.quit()
            self.chat.mark_stopping()

    def _on_ask_worker_yielded(self, event: AnswerEvent) -> None:
        if event.kind == "retrieved":
            self._passages = [citation_from_passage(p) for p in event.passages]
            self._quotes = event.quotes
            self.sources.show_citations(self._passages)
            self.chat.show_quotes(event.quotes, event.unsure, self._passages)
            if event.quotes:  # the best line on its page while the model writes
                self.sources.preview(quote_citation(event.quotes[0], self._passages))
            if not self.chat.stopping:
                self.chat.set_status("Writing the answer… (Esc to stop)")
        elif event.kind == "token":
            self.chat.append_token(event.text)
        elif event.kind == "thinking":  # a reasoning model's <think> part: shown folded away
            self.chat.append_thinking(event.text)

    def _on_ask_worker_returned(self, answer: Answer) -> None:
        if self.current is not None:
            self.conversations.add_answer(self.current, answer, self._scope)
        self.chat.end_answer(stored_from_answer(answer, self._scope))
        shown = answer.citations or self._passages  # nothing cited: the passages the model was given
        if answer.quotes:  # its page is in the preview since retrieval: mark its passage
            self.sources.show_citations(shown)
            self.sources.mark(answer.quotes[0].passage)
        elif answer.citations:  # preview the first source
            self.sources.show_citations(answer.citations, select=answer.citations[0].number)
        else:
            self.sources.show_citations(shown)

    def _on_ask_worker_aborted(self, answer: Answer | None) -> None:
        # The answer as far as it got (the core returns it when stopped), kept like any other.
        partial_answer = answer or Answer(self._question, self.chat.streamed().strip(), quotes=list(self._quotes),
                                          stopped=True)
        self._on_ask_worker_returned(partial_answer)

    def _on_ask_worker_errored(self, exc: BaseException) -> None:
        # Reported here, in the transcript, and nowhere else; a bug's traceback goes to the log.
        if not isinstance(exc, DesktopRagError):
            log.error("answering failed", exc_info=exc)
        text = self.chat.streamed()
        if self.current is not None:
            self.conversations.add_error(self.current, text, str(exc), self._quotes)
        self.chat.end_answer(StoredMessage(0, "assistant", text, 0.0, error=str(exc), quotes=self._quotes))

    def _on_ask_worker_finished(self) -> None:
        self.worker = None
        self.refresh_list()

    # ------------------------------------------------------------------ sources

    def _on_chat_citation_activated(self, citations: Sequence[Citation], number: int) -> None:
        self.sources.show_citations(citations, select=number)

    def _on_chat_quote_activated(self, citations: Sequence[Citation], quote: Citation) -> None:
        """The quote's page, with the quote alone highlighted, beside its answer's sources."""
        self.sources.show_citations(citations)
        self.sources.preview(quote)

    def _on_chat_answer_selected(self, citations: Sequence[Citation]) -> None:
        if citations:
            self.sources.show_citations(citations)

    def _on_sources_source_activated(self, citation: Citation) -> None:
        self.sources.show_rendering(citation)
        self._renders += 1
        render = self._renders
        self.engine.render_page(citation, returned=partial(self._on_render_worker_returned, render),
                                errored=partial(self._on_render_worker_errored, render))

    def _on_render_worker_returned(self, render: int, page: RenderedPage) -> None:
        if render == self._renders:  # a later click wins over a slower earlier render
            self.sources.show_page(page)

    def _on_render_worker_errored(self, render: int, exc: BaseException) -> None:
        # Shown where the page would be, and nowhere else.
        log.log(logging.WARNING if isinstance(exc, DesktopRagError) else logging.ERROR,
                "cannot render a cited page", exc_info=exc)
        if render == self._renders:
            self.sources.show_page_error(f"Cannot show this page: {exc}")

    def _on_sources_open_requested(self, path: str, page: int) -> None:
        self.show_status(open_in_system_viewer(path, page))

    def close(self) -> None:
        self.conversations.close()
