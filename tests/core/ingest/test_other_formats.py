"""Word, Markdown, HTML and plain text: sections with labels, search, and the bad-input treatment of PDFs."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path
from typing import Iterator

import docx
import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.files import discover_documents
from desktop_rag.core.ingest.formats import MAX_TEXT_BYTES, paragraph_number, place_label
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.ingest.render import render_page
from desktop_rag.core.ingest.sections import Block, sections
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events, Stage
from desktop_rag.errors import ExtractionLimitError, NoTextError, UnreadableDocumentError

GUIDE_MD = """# Lighthouse Guide

Welcome to the keeper's guide.

## Install

### On Linux

Run the installer with the keeper flag.

```
# a comment in code, not a heading
```

## Tides
Spring tides bring the highest water of the month.
"""

HARBOUR_HTML = """<!doctype html><html><head><title>Harbour notes</title>
<style>p { color: red }</style><script>var secret = "scripted words";</script></head>
<body><h1>Harbours</h1><p>Boats moor in the <b>harbour</b> at night.</p>
<h2>Moorings</h2><p>Each mooring holds one boat.</p><table><tr><td>Berth</td><td>Fee</td></tr></table>
</body></html>"""


def write_manual(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Keeper Manual"
    document.add_paragraph("A preface before any heading.")
    document.add_heading("Duties", 1)
    document.add_paragraph("Trim the wick every evening.")
    document.add_heading("Night watch", 2)
    document.add_paragraph("Watch the lamp from dusk until dawn.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Shift", "Twelve hours"
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=2048) as ex:
        yield ex


def test_markdown_sections_follow_headings_and_skip_code(tmp_path: Path, extractor: PdfExtractor) -> None:
    (tmp_path / "guide.md").write_text(GUIDE_MD, encoding="utf-8")
    doc = extractor.extract_document(tmp_path / "guide.md")
    assert doc.title == "Lighthouse Guide"
    assert [p.label for p in doc.pages] == ["Lighthouse Guide", "Install > On Linux", "Tides"]
    assert doc.pages[1].text.startswith("Install\n\nOn Linux\n\nRun the installer")
    assert "# a comment in code" in doc.pages[1].text


def test_docx_headings_tables_and_title(tmp_path: Path, extractor: PdfExtractor) -> None:
    doc = extractor.extract_document(write_manual(tmp_path / "manual.docx"))
    assert doc.title == "Keeper Manual"
    assert [p.label for p in doc.pages] == ["", "Duties", "Duties > Night watch"]
    assert doc.pages[2].text.endswith("Watch the lamp from dusk until dawn.\n\nShift | Twelve hours")


def test_html_drops_scripts_and_styles_and_keeps_headings(tmp_path: Path, extractor: PdfExtractor) -> None:
    (tmp_path / "harbour.html").write_text(HARBOUR_HTML, encoding="utf-8")
    doc = extractor.extract_document(tmp_path / "harbour.html")
    assert doc.title == "Harbour notes"
    assert [p.label for p in doc.pages] == ["Harbours", "Moorings"]
    assert doc.pages[0].text == "Harbours\n\nBoats moor in the harbour at night."
    assert "scripted" not in " ".join(p.text for p in doc.pages) and "color" not in doc.pages[0].text
    assert doc.pages[1].text.endswith("Berth | Fee")


def test_plain_text_parts_are_labelled_by_lines(tmp_path: Path, extractor: PdfExtractor) -> None:
    paragraphs = [f"Paragraph {n} talks about buoy number {n}." for n in range(1, 301)]
    (tmp_path / "log.txt").write_bytes("\ufeff".encode() + "\n\n".join(paragraphs).encode("utf-8"))
    doc = extractor.extract_document(tmp_path / "log.txt")
    assert len(doc.pages) > 1 and all(len(p.text) <= 4100 for p in doc.pages)
    assert doc.pages[0].label.startswith("lines 1\u2013") and doc.pages[0].text.startswith("Paragraph 1 ")
    last_line = int(doc.pages[0].label.split("\u2013")[1])
    assert doc.pages[1].label.startswith(f"lines {last_line + 2}\u2013")  # one blank line between


def test_windows_1252_and_utf16_text_are_read(tmp_path: Path, extractor: PdfExtractor) -> None:
    (tmp_path / "cafe.txt").write_bytes("Caf\u00e9 cr\u00e8me for the na\u00efve keeper.".encode("cp1252"))
    (tmp_path / "wide.txt").write_bytes("Text saved as UTF-16 without a BOM.".encode("utf-16-le"))
    cafe = extractor.extract_document(tmp_path / "cafe.txt").pages[0].text
    assert cafe == "Caf\u00e9 cr\u00e8me for the na\u00efve keeper."
    assert extractor.extract_document(tmp_path / "wide.txt").pages[0].text.startswith("Text saved as UTF-16")


def bad_files(folder: Path) -> dict[str, tuple[type[Exception], str]]:
    """Each bad case of the issue, written in ``folder``: {name: (error, start of its reason)}."""
    with zipfile.ZipFile(folder / "not-word.docx", "w") as package:
        package.writestr("hello.txt", "a zip, but no Word document in it")
    (folder / "plain.docx").write_text("just text named .docx")
    (folder / "binary.html").write_bytes(bytes(range(256)) * 64)
    tokyo = "\u6771\u4eac\u306e\u706f\u53f0\u306b\u3064\u3044\u3066\u3002"  # "About the Tokyo lighthouse."
    (folder / "tokyo.txt").write_bytes(tokyo.encode("shift_jis") * 50)
    with (folder / "huge.txt").open("wb") as fh:
        fh.truncate(1 << 30)  # 1 GB, sparse: refused before it is read
    (folder / "empty.md").write_bytes(b"")
    (folder / "blank.md").write_text("\n\n   \n")
    return {
        "not-word.docx": (UnreadableDocumentError, "not-word.docx: a zip file but not a Word document"),
        "plain.docx": (UnreadableDocumentError, "plain.docx: not a Word document (.docx): it is not a zip"),
        "binary.html": (UnreadableDocumentError, "binary.html: not a text file: it holds binary data"),
        "tokyo.txt": (UnreadableDocumentError, "tokyo.txt: its text is in an encoding this program cannot"),
        "huge.txt": (ExtractionLimitError, f"huge.txt: 1,024 MB; .txt files over {MAX_TEXT_BYTES // 2**20} MB"),
        "empty.md": (UnreadableDocumentError, "empty.md: empty file (0 bytes)"),
        "blank.md": (NoTextError, "blank.md: no text in it"),
    }


def test_each_bad_file_gets_its_own_reason(tmp_path: Path, extractor: PdfExtractor) -> None:
    for name, (error, reason) in bad_files(tmp_path).items():
        with pytest.raises(error) as caught:
            extractor.extract_document(tmp_path / name)
        assert str(caught.value).startswith(reason), name


def test_a_mixed_folder_ingests_the_good_files_and_reports_each_bad_one(tmp_path: Path,
                                                                       extractor: PdfExtractor) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    bad = bad_files(folder)
    (folder / "guide.md").write_text(GUIDE_MD)
    (folder / "harbour.htm").write_text(HARBOUR_HTML)
    write_manual(folder / "manual.docx")
    (folder / "notes.txt").write_text("The foghorn sounds every thirty seconds.")
    write_pdf(folder / "beacon.pdf", ["The beacon's lens is made of glass prisms."])
    (folder / "photo.png").write_bytes(b"\x89PNG not read")
    assert len(discover_documents([folder])) == len(bad) + 5  # the .png is not picked up
    with Store(tmp_path / "lib") as store:
        run = Events(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(64, 8)).run([folder]))
        events = list(run)
        got = {Path(o.path).name: (o.stage, o.message) for o in run.result.outcomes}
        assert {n for n, (stage, _) in got.items() if stage == Stage.INDEXED} == {
            "guide.md", "harbour.htm", "manual.docx", "notes.txt", "beacon.pdf"}
        for name, (_, reason) in bad.items():
            assert got[name][0] == Stage.FAILED and got[name][1].startswith(reason), name
        assert events
        [hit] = [h for h in store.keyword_search("foghorn", 5)]
        rows = store.chunk_rows([hit[0]])
        assert rows[hit[0]]["name"] == "notes.txt" and rows[hit[0]]["label"] == "line 1"
        [(cid, _)] = store.keyword_search("installer", 5)
        row = store.chunk_rows([cid])[cid]
        assert place_label(row["path"], row["page_start"], row["page_end"], row["label"]) == \
            "section 2: Install > On Linux"


def test_a_library_from_before_labels_is_migrated(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    with Store(lib):
        pass
    db = sqlite3.connect(lib / "library.sqlite3")
    db.executescript("DROP TABLE pages; CREATE TABLE pages(doc_id INTEGER NOT NULL, number INTEGER NOT NULL, "
                     "text TEXT NOT NULL, PRIMARY KEY(doc_id, number)) WITHOUT ROWID;")
    db.close()
    with Store(lib, read_only=True) as store:  # made up in TEMP, the file untouched
        assert store.chunk_rows([1]) == {}
    with Store(lib) as store:
        assert "label" in {r[1] for r in store._db.execute("PRAGMA table_info(pages)")}


def test_place_labels_name_what_a_user_finds() -> None:
    assert place_label("/a/report.pdf", 3) == "page 3"
    assert place_label("/a/report.pdf", 3, 4) == "pages 3\u20134"
    assert place_label("/a/guide.md", 2, 2, "Install > On Linux") == "section 2: Install > On Linux"
    assert place_label("/a/notes.txt", 4, 0, "lines 120\u2013161") == "part 4: lines 120\u2013161"
    assert place_label("/a/page.HTML", 1) == "section 1"
    assert paragraph_number("one\n\ntwo\n\nthree", 6) == 2


def test_long_sections_are_cut_into_labelled_parts() -> None:
    blocks = [Block(1, "Title"), Block(2, "Big")] + [Block(0, "word " * 100) for _ in range(30)]
    found = sections(blocks, max_chars=2000)
    assert [label for _, label in found][:3] == ["Big", "Big (part 2)", "Big (part 3)"]
    assert all(len(text) <= 2100 for text, _ in found)


def test_the_preview_of_a_section_is_its_text_with_the_passage(tmp_path: Path) -> None:
    text = "Install\n\nOn Linux\n\nRun the installer with the keeper flag."
    start = text.index("Run")
    page = render_page(tmp_path / "guide.md", 2, highlight=(start, start + 7), page_text=text)
    assert page.is_text and page.text == text and page.span == (start, start + 7)
    assert page.label == "section 2" and page.rgba == b""


def test_hits_quotes_and_citations_carry_the_section_label(tmp_path: Path, extractor: PdfExtractor) -> None:
    from fakes import StreamingChatModel

    from desktop_rag.core.answer.answerer import Answerer
    from desktop_rag.core.search.retriever import Retriever

    (tmp_path / "guide.md").write_text(GUIDE_MD)
    with Store(tmp_path / "lib") as store:
        embedder = HashEmbedder()
        list(Ingestion(store, embedder, extractor, ChunkOptions(64, 8)).run([tmp_path / "guide.md"]))
        retriever = Retriever(store, embedder)
        hits = retriever.search("installer keeper flag", k=3, mode="keyword")
        assert hits[0].label == "Install > On Linux"
        answerer = Answerer(store, retriever, embedder, StreamingChatModel("Run the installer with the keeper flag [1]."),
                            k=3, mode="hybrid", max_tokens=64, temperature=0.0)
        answer = Events(answerer.ask("How do I run the installer with the keeper flag?"))
        list(answer)
        labels = {c.label for c in answer.result.citations} | {q.label for q in answer.result.quotes}
        assert "Install > On Linux" in labels
        assert all(p.label for p in answer.result.passages if p.page == 2)
