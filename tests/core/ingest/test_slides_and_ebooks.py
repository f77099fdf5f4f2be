"""PowerPoint (.pptx) and e-books (.epub): a slide or a chapter's section per stored page with a label
a user finds ("slide 3: Results"), indexed and searched like the other formats, and the same
bad-input treatment (a reason per file, the batch goes on)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from fakes import HashEmbedder
from pptx import Presentation
from pptx.util import Inches

from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.files import discover_documents
from desktop_rag.core.ingest.formats import place_label, size_limit, unit_name
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events, Stage
from desktop_rag.errors import NoTextError, UnreadableDocumentError

CONTAINER = """<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"""
OPF = """<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Keeper's Year</dc:title></metadata>
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="text/ch%202.xhtml" media-type="application/xhtml+xml"/>
<item id="css" href="style.css" media-type="text/css"/></manifest>
<spine><itemref idref="nav"/><itemref idref="c1"/><itemref idref="c2"/></spine></package>"""
CHAPTER_1 = """<html xmlns="http://www.w3.org/1999/xhtml"><head><title>One</title></head><body>
<h1>Chapter 1: Winter</h1><p>Ice forms on the gallery rail.</p>
<h2>Storms</h2><p>The foghorn sounds every thirty seconds in a gale.</p></body></html>"""
CHAPTER_2 = """<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Spring</title></head><body>
<p>Puffins return to the cliffs in April.</p></body></html>"""


def write_epub(path: Path, *, encrypted: bool = False, opf: str = OPF) -> Path:
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", CONTAINER)
        book.writestr("OEBPS/content.opf", opf)
        book.writestr("OEBPS/nav.xhtml", "<html><body><nav><ol><li>Winter</li></ol></nav></body></html>")
        book.writestr("OEBPS/text/ch1.xhtml", CHAPTER_1)
        book.writestr("OEBPS/text/ch 2.xhtml", CHAPTER_2)
        if encrypted:
            book.writestr("META-INF/encryption.xml", '<encryption xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
                          '<enc:EncryptedData><enc:CipherData><enc:CipherReference URI="OEBPS/text/ch1.xhtml"/>'
                          '</enc:CipherData></enc:EncryptedData></encryption>')
    return path


def write_deck(path: Path) -> Path:
    deck = Presentation()
    deck.core_properties.title = "Lighthouse review"
    first = deck.slides.add_slide(deck.slide_layouts[1])
    first.shapes.title.text = "Beacon upgrade"
    first.placeholders[1].text = "New LED lamp\nRange of twenty nautical miles"
    first.notes_slide.notes_text_frame.text = "Mention the budget of forty thousand pounds."
    deck.slides.add_slide(deck.slide_layouts[6])  # blank: kept, so the numbers stay the slides'
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "Results"
    table = third.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "Ships guided", "Year"
    table.cell(1, 0).text, table.cell(1, 1).text = "1,204", "2024"
    deck.save(str(path))
    return path


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=2048) as ex:
        yield ex


def test_each_slide_is_a_page_labelled_with_its_title(tmp_path: Path, extractor: PdfExtractor) -> None:
    doc = extractor.extract_document(write_deck(tmp_path / "review.pptx"))
    assert doc.title == "Lighthouse review"
    assert [(p.number, p.label) for p in doc.pages] == [(1, "Beacon upgrade"), (2, ""), (3, "Results")]
    first, _, third = doc.pages
    assert "Range of twenty nautical miles" in first.text and "Notes: Mention the budget" in first.text
    assert "Ships guided | Year" in third.text and "1,204 | 2024" in third.text
    assert place_label("review.pptx", 3, 3, "Results") == "slide 3: Results" and unit_name("x.PPTX") == "slide"


def test_an_epub_is_read_chapter_by_chapter_in_spine_order(tmp_path: Path, extractor: PdfExtractor) -> None:
    doc = extractor.extract_document(write_epub(tmp_path / "year.epub"))
    assert doc.title == "The Keeper's Year"
    labels = [p.label for p in doc.pages]
    assert labels == ["Chapter 1: Winter", "Chapter 1: Winter > Storms", "Spring"]  # the nav page is left out
    assert "foghorn" in doc.pages[1].text and "Puffins" in doc.pages[2].text


def bad_files(folder: Path) -> dict[str, tuple[type, str]]:
    (folder / "text.pptx").write_text("not a zip at all")
    with zipfile.ZipFile(folder / "sheet.pptx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with zipfile.ZipFile(folder / "broken.pptx", "w") as z:
        z.writestr("ppt/presentation.xml", "<not really")
    write_epub(folder / "locked.epub", encrypted=True)
    write_epub(folder / "garbled.epub", opf="<package><manifest>")
    with zipfile.ZipFile(folder / "empty.epub", "w") as z:
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OEBPS/content.opf", OPF.replace("<itemref idref=\"c1\"/><itemref idref=\"c2\"/>", ""))
    return {
        "text.pptx": (UnreadableDocumentError, "text.pptx: not a PowerPoint presentation (.pptx): it is not a zip"),
        "sheet.pptx": (UnreadableDocumentError, "sheet.pptx: a zip file but not a PowerPoint presentation"),
        "broken.pptx": (UnreadableDocumentError, "broken.pptx: the PowerPoint file is damaged"),
        "locked.epub": (UnreadableDocumentError, "locked.epub: the e-book is protected by DRM"),
        "garbled.epub": (UnreadableDocumentError, "garbled.epub: the e-book is damaged"),
        "empty.epub": (NoTextError, "empty.epub: no text in it"),
    }


def test_each_bad_slide_deck_or_book_gets_its_own_reason(tmp_path: Path, extractor: PdfExtractor) -> None:
    for name, (error, reason) in bad_files(tmp_path).items():
        with pytest.raises(error) as caught:
            extractor.extract_document(tmp_path / name)
        assert str(caught.value).startswith(reason), (name, str(caught.value))
    assert size_limit("deck.pptx") == size_limit("report.docx") > size_limit("notes.txt")


def test_slides_and_books_are_found_in_folders_indexed_and_cited(tmp_path: Path, extractor: PdfExtractor) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    bad = bad_files(folder)
    write_deck(folder / "review.pptx")
    write_epub(folder / "year.epub")
    assert len(discover_documents([folder])) == len(bad) + 2
    with Store(tmp_path / "lib") as store:
        run = Events(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(64, 8)).run([folder]))
        list(run)
        got = {Path(o.path).name: o.stage for o in run.result.outcomes}
        assert {n for n, stage in got.items() if stage == Stage.INDEXED} == {"review.pptx", "year.epub"}
        assert all(got[name] == Stage.FAILED for name in bad)
        for word, where in (("nautical", "slide 1: Beacon upgrade"), ("foghorn", "section 2: Chapter 1: Winter > Storms")):
            [(cid, _)] = store.keyword_search(word, 5)
            row = store.chunk_rows([cid])[cid]
            assert place_label(row["path"], row["page_start"], row["page_end"], row["label"]) == where
