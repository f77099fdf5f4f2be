"""The preview of a passage from a Markdown file: the section's text, the passage highlighted in it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop_rag.core.ingest.render import render_page
from desktop_rag.core.types import Citation
from desktop_rag.ui.sources_panel import SourcesPanel, citation_html

SECTION = ("Install\n\nOn Linux\n\nDownload the package first.\n\n"
           "Run the installer with the keeper flag, then restart the lamp.")


def test_a_markdown_citation_shows_its_section_with_the_passage_highlighted(qtbot: QtBot, tmp_path: Path) -> None:
    path = str(tmp_path / "guide.md")
    start = SECTION.index("Run the installer")
    citation = Citation(number=1, file="guide.md", path=path, page=2, chunk_id=7, text=SECTION[start:],
                        start_offset=start, end_offset=len(SECTION), page_end=2, doc_id=1)
    panel = SourcesPanel()
    qtbot.addWidget(panel)
    panel.show_citations([citation])
    assert "section 2" in citation_html(citation, "black", "gray")
    panel.show_rendering(citation)
    assert panel.page_title.text() == "guide.md · section 2"
    page = render_page(path, 2, highlight=(start, len(SECTION)), page_text=SECTION, label="Install > On Linux")
    panel.show_page(page)
    view = panel.page_view
    assert view.currentWidget() is view.section and view.highlight_count == 1
    assert view.section.highlighted == SECTION[start:]
    assert view.section.where.text() == "guide.md · section 2: Install > On Linux, paragraph 4"
    assert view.section.browser.toPlainText() == SECTION
    assert panel.page_title.text() == "guide.md · section 2: Install > On Linux"
