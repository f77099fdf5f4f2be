"""Collections in the window: a dropped folder becomes one, the library shows and changes them, and
the chat's scope selector (all documents, a collection, the selected documents) decides what a
question searches, also when its collection is deleted while it is being answered."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

from desktop_rag.core.answer.answerer import Answerer
from desktop_rag.core.store.library import Store
from fakes import StreamingChatModel
from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import REPLY, WAIT_MS, index_docs, wait_idle

QUESTION = "How much was widget revenue in the third quarter?"


@pytest.fixture
def asked_scopes(monkeypatch: pytest.MonkeyPatch) -> list:
    """The ``scope`` every question was answered with (the answerer's own code runs as usual)."""
    scopes: list = []
    original = Answerer.ask

    def ask(self, question, should_stop=lambda: False, scope=None):  # noqa: ANN001, ANN202
        scopes.append(None if scope is None else sorted(scope))
        return original(self, question, should_stop, scope)

    monkeypatch.setattr(Answerer, "ask", ask)
    return scopes


def items(combo) -> list[str]:  # noqa: ANN001
    return [combo.itemText(i) for i in range(combo.count())]


def doc_id(window, name: str) -> int:  # noqa: ANN001
    return next(d.id for d in window.engine.documents() if d.name == name)


def select(window, *names: str) -> None:  # noqa: ANN001
    table, model = window.library.table, window.library.model
    table.clearSelection()
    for i, row in enumerate(model.rows()):
        if row.name in names:
            table.selectionModel().select(model.index(i, 0), QItemSelectionModel.SelectionFlag.Select
                                          | QItemSelectionModel.SelectionFlag.Rows)


def collections(window) -> dict[str, list[int]]:  # noqa: ANN001
    return {c.name: sorted(c.doc_ids) for c in window.engine.collections()}


def change_and_wait(qtbot, window, action) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.engine.library_changed, timeout=WAIT_MS):
        action()
    wait_idle(qtbot, window)


def ask(qtbot, window, question: str = QUESTION) -> None:  # noqa: ANN001
    window.chat.question.setPlainText(question)
    window.chat.submit()
    qtbot.waitUntil(lambda: window.chats.worker is None, timeout=WAIT_MS)


def test_a_dropped_folder_becomes_a_collection_shown_in_the_library_and_the_chat(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    both = sorted([doc_id(window, "widgets.pdf"), doc_id(window, "gardening.pdf")])
    assert collections(window) == {"docs": both}
    assert items(window.library.filter.combo) == ["All documents (2)", "docs (2)"]
    assert items(window.chat.scope) == ["All documents", "docs (2)", "Selected documents (0)"]
    select(window, "widgets.pdf")
    assert window.chat.scope.itemText(2) == "Selected documents (1)"
    tip = window.library.model.data(window.library.model.index(0, 0), 3)  # the name's tooltip
    assert "Collections: docs" in tip


def test_library_actions_make_change_and_delete_collections(qtbot, make_window, docs: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    library, widgets, garden = window.library, doc_id(window, "widgets.pdf"), doc_id(window, "gardening.pdf")
    select(window, "widgets.pdf")
    change_and_wait(qtbot, window, lambda: library.new_collection("Widgets"))
    assert collections(window)["Widgets"] == [widgets]
    select(window, "gardening.pdf")
    change_and_wait(qtbot, window, lambda: library.add_selected_to(window.engine.store.collections.find("widgets").id))
    assert collections(window)["Widgets"] == sorted([widgets, garden])

    library.filter.show_collection(window.engine.store.collections.find("Widgets").id)
    select(window, "gardening.pdf")
    change_and_wait(qtbot, window, library.remove_selected_from_collection)
    shown = [r.name for i, r in enumerate(library.model.rows()) if not library.table.isRowHidden(i)]
    assert shown == ["widgets.pdf"] and collections(window)["Widgets"] == [widgets]
    change_and_wait(qtbot, window, lambda: library.rename_collection("Widget reports"))
    assert "Widget reports (1)" in items(library.filter.combo) and library.filter.current().name == "Widget reports"

    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    library.delete_collection()  # cancelled: nothing changes
    assert "never deletes documents" in asked[0] and "Widget reports" in collections(window)
    change_and_wait(qtbot, window, lambda: library.delete_collection(confirmed=True))
    assert set(collections(window)) == {"docs"} and len(window.engine.documents()) == 2
    assert library.filter.current() is None and not any(library.table.isRowHidden(i) for i in range(2))


def test_a_question_in_a_collection_searches_only_it_and_says_so(qtbot, make_window, docs: Path, data_dir: Path,
                                                                  asked_scopes: list) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    garden = doc_id(window, "gardening.pdf")
    change_and_wait(qtbot, window, lambda: window.engine.change_collections(
        lambda store: store.collections.create("Garden", [garden]), "test"))
    window.chat.scope.choose_collection(window.engine.store.collections.find("Garden").id)
    ask(qtbot, window)
    assert asked_scopes == [[garden]]
    assert "Answer · in: Garden" in window.chat.rendered_text()
    assert all(c.file == "gardening.pdf" for c in window.sources.citations)
    saved = window.chats.conversations.messages(window.chats.current)
    assert saved[-1].extra.get("scope") == "Garden"
    window.chat.scope.choose_all()
    ask(qtbot, window)
    assert asked_scopes[-1] is None  # all documents: the whole library
    assert not window.error_dialogs


def test_a_question_about_the_selected_documents(qtbot, make_window, docs: Path, asked_scopes: list) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    select(window, "widgets.pdf")
    window.chat.scope.choose_selected()
    ask(qtbot, window)
    assert asked_scopes == [[doc_id(window, "widgets.pdf")]]
    assert "in: widgets.pdf" in window.chat.rendered_text()
    window.library.table.clearSelection()
    ask(qtbot, window)  # nothing selected: said in the chat, nothing is searched
    assert len(asked_scopes) == 1
    assert "No indexed document is selected in the library: nothing to search in." in window.chat.rendered_text()


def test_an_empty_collection_answers_nothing_to_search_in(qtbot, make_window, docs: Path, asked_scopes: list) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    change_and_wait(qtbot, window, lambda: window.library.new_collection("Empty"))
    window.chat.scope.choose_collection(window.engine.store.collections.find("Empty").id)
    ask(qtbot, window)
    assert asked_scopes == []
    last = window.chat.last_message()
    assert last.text == "Collection 'Empty' has no indexed documents: nothing to search in." and not last.error
    assert last.text in window.chat.rendered_text() and not window.error_dialogs


def test_deleting_the_collection_being_asked_about_finishes_the_answer_and_falls_back(
        qtbot, make_window, docs: Path, asked_scopes: list) -> None:
    model = StreamingChatModel(REPLY, delay_s=0.05)
    window = make_window(chat_model=model)
    index_docs(qtbot, window, [docs])
    widgets = doc_id(window, "widgets.pdf")
    change_and_wait(qtbot, window, lambda: window.engine.change_collections(
        lambda store: store.collections.create("Widgets", [widgets]), "test"))
    collection = window.engine.store.collections.find("Widgets")
    window.chat.scope.choose_collection(collection.id)
    window.chat.question.setPlainText(QUESTION)
    window.chat.submit()
    qtbot.waitUntil(lambda: model.streamed >= 2, timeout=WAIT_MS)
    window.library.filter.show_collection(collection.id)
    window.library.delete_collection(confirmed=True)
    qtbot.waitUntil(lambda: "Widgets" not in collections(window) and window.chat.scope.currentIndex() == 0,
                    timeout=WAIT_MS)
    assert window.chat.answering  # still being written
    qtbot.waitUntil(lambda: window.chats.worker is None, timeout=WAIT_MS)
    last = window.chat.last_message()
    assert not last.error and not last.stopped and "Widget revenue was 42 million dollars" in last.text
    assert asked_scopes == [[widgets]]
    assert window.chat.scope.currentText() == "All documents" and not window.error_dialogs
    assert "was deleted: questions now search all documents" in window.statusBar().currentMessage()


def test_another_data_folder_shows_its_own_collections(qtbot, make_window, docs: Path, tmp_path: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    folder = window.engine.store.collections.find("docs")
    window.chat.scope.choose_collection(folder.id)
    window.library.filter.show_collection(folder.id)
    with Store(tmp_path / "other") as other:  # a collection with the same id, in another library
        assert other.collections.create("Someone else's").id == folder.id
    window.apply_settings(window.engine.settings.replace(data_dir=str(tmp_path / "other")))
    wait_idle(qtbot, window)
    assert window.chat.scope.currentText() == "All documents" and window.library.filter.current() is None
    assert items(window.chat.scope) == ["All documents", "Someone else's (0)", "Selected documents (0)"]
