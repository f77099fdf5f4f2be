"""The library's SQLite schema, and bringing libraries written by earlier versions up to it."""

from __future__ import annotations

import os
import re
import sqlite3

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    page_count INTEGER NOT NULL DEFAULT 0,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    added_at REAL NOT NULL,
    title TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS pages(
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(doc_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    token_count INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE IF NOT EXISTS collections(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_documents(
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY(collection_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS collection_documents_doc ON collection_documents(doc_id);
CREATE TABLE IF NOT EXISTS page_words(
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    words TEXT NOT NULL,
    PRIMARY KEY(doc_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watched_folders(
    path TEXT PRIMARY KEY,
    added_at REAL NOT NULL
);
"""

# The last is how many of its pages were read by OCR (page_words, added with OCR: an existing library gets
# the empty table when it is next opened for writing, or a TEMP one when read only).
DOC_COLUMNS = ("id, path, name, sha256, size, mtime, page_count, chunk_count, status, error, added_at, title, "
               "(SELECT count(*) FROM page_words w WHERE w.doc_id = documents.id) AS ocr_pages")


def create_or_migrate(db: sqlite3.Connection) -> None:
    """Create what is missing (tables added later, such as the collections and watched folders, included), then add
    the columns earlier versions did not have."""
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    if "title" not in columns:
        db.execute("ALTER TABLE documents ADD COLUMN title TEXT NOT NULL DEFAULT ''")
    if "label" not in {row[1] for row in db.execute("PRAGMA table_info(pages)")}:  # sections of non-PDF files
        db.execute("ALTER TABLE pages ADD COLUMN label TEXT NOT NULL DEFAULT ''")
    db.execute("INSERT OR IGNORE INTO meta VALUES('schema_version', ?)", (SCHEMA_VERSION,))


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (KeyboardInterrupt included)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")


_TABLE = re.compile(r"CREATE (?:VIRTUAL )?TABLE IF NOT EXISTS (\w+)")


def adapt_for_reading(db: sqlite3.Connection) -> None:
    """A library opened for reading only, written by an earlier version (or not yet at all): what it
    lacks is made up in the connection's TEMP schema, which shadows the file's, and nothing is
    written to the file: empty tables for those it has not, ``documents`` and ``pages`` views with
    the columns added since."""
    present = {row[0] for row in db.execute("SELECT name FROM main.sqlite_master WHERE type='table'")}
    for statement in SCHEMA.split(";\n"):
        found = _TABLE.search(statement)
        if found and found.group(1) not in present:
            db.execute(statement.replace(f"EXISTS {found.group(1)}", f"EXISTS temp.{found.group(1)}", 1))
    columns = {row[1] for row in db.execute("PRAGMA main.table_info(documents)")}
    if columns and "title" not in columns:
        db.execute("CREATE TEMP VIEW documents AS SELECT *, '' AS title FROM main.documents")
    page_columns = {row[1] for row in db.execute("PRAGMA main.table_info(pages)")}
    if page_columns and "label" not in page_columns:
        db.execute("CREATE TEMP VIEW pages AS SELECT *, '' AS label FROM main.pages")


def path_to_db(path: str) -> str | bytes:
    """A file's path as the documents table keeps it: text, or the name's bytes (a BLOB, which SQLite
    keeps as it is in a TEXT column) when it is not valid UTF-8 (see :mod:`desktop_rag.core.filenames`).
    Either way the path is the file's own, and unique."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_db(value: str | bytes) -> str:
    """The path ``path_to_db`` kept, as Python opens it."""
    return os.fsdecode(value) if isinstance(value, bytes) else value
