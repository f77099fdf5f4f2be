#!/usr/bin/env python3
"""Render mdBook "print.html" manuals to paginated A4 PDFs with a text layer.

The manuals of ``benchmarks/data/rust_questions.jsonl`` and ``cargo_questions.jsonl`` (see their
``.md`` files). Run with:

    QT_QPA_PLATFORM=offscreen python benchmarks/make_rust_manuals.py --out /tmp/rustdocs
    QT_QPA_PLATFORM=offscreen python benchmarks/make_rust_manuals.py --set cargo --out /tmp/cargodocs

The HTML comes with the Rust toolchain's documentation (``rustup component add rust-docs``);
``--src`` defaults to ``$(rustc --print sysroot)/share/doc/rust/html``.

Steps per book:
  1. parse print.html with lxml, keep only the <main> element (the book text);
     this drops the sidebar <nav id="mdbook-sidebar" class="sidebar">, the top
     menu bar (#mdbook-menu-bar), the page-navigation <nav>s, help popup,
     templates and all <script>s;
  2. inside <main>: remove any remaining <script>/<nav>/<style>/<button>/<svg>/
     <img>/<iframe>, and mdBook's hidden "boring" code lines
     (<span class="boring">, shown only when a reader clicks the eye icon);
  3. turn mdBook's chapter separators (<div style="break-before: page">) into a
     page-break-before on the following element, so every chapter starts on a
     new page;
  4. wrap in a tiny HTML page with our own stylesheet (10.5 pt DejaVu Serif
     body, 8.5 pt DejaVu Sans Mono code blocks indented 16 px -- no grey
     background, because per-line block backgrounds in QTextDocument paint
     over the underscores of the previous code line -- bordered tables), lay
     it out with QTextDocument and print it into a QPdfWriter (A4 portrait,
     300 dpi, zero printer margins; QTextDocument.print_() itself applies a
     2 cm margin, paginates, and draws the page number at the bottom right).
"""
import argparse
import os
import subprocess
import sys

import lxml.html
from lxml import etree

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QMarginsF, QSizeF, QUrl  # noqa: E402
from PySide6.QtGui import (QFont, QGuiApplication, QPageLayout,  # noqa: E402
                           QPageSize, QPdfWriter, QTextDocument)

BOOKS = {  # --set: rust_questions.jsonl's four manuals, or cargo_questions.jsonl's two
    "rust": [
        ("rustdoc", "rustdoc-book.pdf", "The rustdoc book"),
        ("edition-guide", "edition-guide.pdf", "The Rust Edition Guide"),
        ("embedded-book", "embedded-book.pdf", "The Embedded Rust Book"),
        ("nomicon", "nomicon.pdf", "The Rustonomicon"),
    ],
    "cargo": [
        ("cargo", "cargo-book.pdf", "The Cargo Book"),
        ("rustc", "rustc-book.pdf", "The rustc book"),
    ],
}

CSS = """
body { font-family: 'DejaVu Serif'; font-size: 10.5pt; }
h1 { font-family: 'DejaVu Sans'; font-size: 17pt; font-weight: bold; margin-top: 10px; margin-bottom: 12px; }
h2 { font-family: 'DejaVu Sans'; font-size: 14pt; font-weight: bold; margin-top: 18px; margin-bottom: 10px; }
h3 { font-family: 'DejaVu Sans'; font-size: 12pt; font-weight: bold; margin-top: 15px; margin-bottom: 7px; }
h4, h5, h6 { font-family: 'DejaVu Sans'; font-size: 11pt; font-weight: bold; margin-top: 12px; margin-bottom: 7px; }
p { margin-top: 6px; margin-bottom: 8px; }
code { font-family: 'DejaVu Sans Mono'; font-size: 9pt; }
pre { font-family: 'DejaVu Sans Mono'; font-size: 8.5pt; margin-left: 16px; color: #1a1a1a;
      margin-top: 7px; margin-bottom: 10px; }
pre code { font-size: 8.5pt; }
blockquote { margin-left: 26px; color: #333333; }
table { border-collapse: collapse; margin-top: 7px; margin-bottom: 10px; }
th { font-family: 'DejaVu Sans'; font-weight: bold; background-color: #e6e6e6; }
a { color: #1a4d99; text-decoration: none; }
"""

DROP_TAGS = ("script", "noscript", "nav", "style", "button", "svg", "img",
             "iframe", "template", "input", "label", "object", "video", "audio")


def clean_main(path):
    tree = lxml.html.parse(path)
    root = tree.getroot()
    mains = root.xpath("//main")
    if len(mains) != 1:
        raise SystemExit(f"{path}: expected one <main>, found {len(mains)}")
    main = mains[0]
    # drop chrome that might still be nested in <main>
    for el in main.xpath(".//" + " | .//".join(DROP_TAGS)):
        el.drop_tree()
    for el in main.xpath('.//*[contains(concat(" ", normalize-space(@class), " "), " sidebar ")'
                         ' or @id="sidebar" or @id="mdbook-sidebar"'
                         ' or contains(@class, "menu-bar") or contains(@id, "menu-bar")]'):
        el.drop_tree()
    # hidden "boring" lines of doc-test style code blocks
    for el in main.xpath('.//span[contains(concat(" ", normalize-space(@class), " "), " boring ")]'):
        el.drop_tree()
    # chapter separators -> page break before the next element
    for div in main.xpath('.//div[contains(@style, "break-before")]'):
        nxt = div.getnext()
        if nxt is not None:
            st = nxt.get("style", "")
            nxt.set("style", (st + "; " if st else "") + "page-break-before: always;")
        div.drop_tree()
    # tables: give cells a border/padding QTextDocument understands
    for t in main.xpath(".//table"):
        t.set("border", "1")
        t.set("cellspacing", "0")
        t.set("cellpadding", "3")
    # strip the self-link <a class="header"> wrapper on headings (keep text)
    for a in main.xpath('.//a[@class="header"]'):
        a.drop_tag()
    main.tag = "div"
    return etree.tostring(main, encoding="unicode", method="html")


def default_src():
    try:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return os.path.join(sysroot.strip(), "share", "doc", "rust", "html")


def render(src_dir, out_dir, book, outname, title):
    src = os.path.join(src_dir, book, "print.html")
    body = clean_main(src)
    html = (f"<html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body>{body}</body></html>")
    doc = QTextDocument()
    doc.setDefaultStyleSheet(CSS)
    f = QFont("DejaVu Serif")
    f.setPointSizeF(10.5)
    doc.setDefaultFont(f)
    doc.setMetaInformation(QTextDocument.DocumentTitle, title)
    doc.setMetaInformation(QTextDocument.DocumentUrl,
                           QUrl.fromLocalFile(src).toString())
    doc.setBaseUrl(QUrl.fromLocalFile(os.path.dirname(src) + "/"))
    doc.setHtml(html)

    out = os.path.join(out_dir, outname)
    w = QPdfWriter(out)
    w.setResolution(300)
    w.setTitle(title)
    w.setCreator("make_rust_manuals.py (PySide6 QTextDocument)")
    w.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait,
                                QMarginsF(0, 0, 0, 0), QPageLayout.Millimeter))
    # QTextDocument.print_() adds its own 2 cm margin and draws the page number in it
    doc.print_(w)
    del w
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=default_src(), help="the toolchain's share/doc/rust/html folder")
    parser.add_argument("--out", required=True, help="folder for the PDFs")
    parser.add_argument("--set", choices=sorted(BOOKS), default="rust",
                        help="which manuals: rust_questions.jsonl's (default) or cargo_questions.jsonl's")
    args = parser.parse_args()
    if not os.path.isdir(args.src):
        raise SystemExit(f"no Rust documentation at {args.src!r}: install it (rustup component add rust-docs) "
                         "or pass --src")
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)  # noqa: F841
    os.makedirs(args.out, exist_ok=True)
    for book, outname, title in BOOKS[args.set]:
        out = render(args.src, args.out, book, outname, title)
        try:
            import pypdfium2 as pdfium
            n = len(pdfium.PdfDocument(out))
        except Exception as e:  # pragma: no cover
            n = f"? ({e})"
        print(f"{outname}: {n} pages, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
