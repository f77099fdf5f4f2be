"""Labelled question files for the evaluation harness: loading, checking, resolving against a library.

Two formats:

- JSONL (``.jsonl``, ``.json``, ``.ndjson``, anything not ``.csv``): one object per line with
  ``question``, optional ``answer``, and gold evidence as ``docs`` (file names, or globs over them)
  and/or ``pages`` (``[{"file": NAME, "page": N}]``, 1-based). Blank lines are allowed.
- CSV with the columns of the SEC corpus's ``qna_data.csv``: ``Question``, ``Source Docs`` (a glob
  over file names such as ``*2023 Q3 AAPL*``; several may be separated by commas), optional
  ``Answer`` and ``Question Type``. Line numbers are those of the line a record starts on.

Every problem is reported with its line, all of them at once, as one :class:`InputFileError`.
"""

from __future__ import annotations

import csv
import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from desktop_rag.core.types import DocumentInfo, DocumentStatus
from desktop_rag.errors import FileAccessError, InputFileError

MAX_LISTED_PROBLEMS = 20
LEVELS: tuple[str, ...] = ("document", "page")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """A question as written in the file; ``docs`` are names or globs, ``pages`` (name, page)."""

    line: int
    question: str
    answer: str = ""
    docs: tuple[str, ...] = ()
    pages: tuple[tuple[str, int], ...] = ()
    kind: str = ""
    figures: tuple[str, ...] = ()  # numbers a right answer gives ("82959", "18.0"): context and answer checks


@dataclass(frozen=True, slots=True)
class ResolvedQuestion:
    """A question whose gold evidence is pinned to documents of the library (by path)."""

    source: EvalQuestion
    gold_docs: frozenset[str]
    gold_pages: frozenset[tuple[str, int]]
    names: dict[str, str]  # path -> file name, for reports

    @property
    def line(self) -> int:
        return self.source.line

    @property
    def text(self) -> str:
        return self.source.question


@dataclass(frozen=True, slots=True)
class SkippedQuestion:
    line: int
    question: str
    reason: str


def problems_error(path: str, problems: Sequence[str], hint: str = "") -> InputFileError:
    """One error listing the problems (the first :data:`MAX_LISTED_PROBLEMS`), each naming its line."""
    listed = list(problems[:MAX_LISTED_PROBLEMS])
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed.append(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more")
    if hint:
        listed.append(hint)
    head = f"{path}: " + ("1 problem" if len(problems) == 1 else f"{len(problems)} problems")
    return InputFileError(path, head + "\n  " + "\n  ".join(listed))


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Questions of a JSONL or CSV file; raises :class:`InputFileError` naming every bad line."""
    path = Path(path)
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "not found"
        raise FileAccessError(str(path), f"question file {path}: {why}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(str(path), f"question file {path} cannot be read: {exc}") from exc
    questions, problems = (_parse_csv if path.suffix.lower() == ".csv" else _parse_jsonl)(text)
    if problems:
        raise problems_error(str(path), problems)
    if not questions:
        raise InputFileError(str(path), f"{path}: no questions in the file")
    return questions


# ------------------------------------------------------------------ JSONL


def _parse_jsonl(text: str) -> tuple[list[EvalQuestion], list[str]]:
    questions: list[EvalQuestion] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            questions.append(_question_from_object(obj, number))
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    return questions, problems


def _text_field(obj: dict[str, Any], key: str, required: bool) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise ValueError(f"the field '{key}' is missing")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"'{key}' is empty")
    return value.strip()


def _docs_field(obj: dict[str, Any]) -> tuple[str, ...]:
    docs = obj.get("docs")
    if docs is None:
        return ()
    if isinstance(docs, str):
        docs = [docs]
    if not isinstance(docs, list) or not all(isinstance(d, str) and d.strip() for d in docs):
        raise ValueError("'docs' must be a list of file names")
    return tuple(d.strip() for d in docs)


def _pages_field(obj: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    pages = obj.get("pages")
    if pages is None:
        return ()
    if not isinstance(pages, list):
        raise ValueError("'pages' must be a list of {\"file\": NAME, \"page\": N} objects")
    out = []
    for i, item in enumerate(pages, 1):
        if not isinstance(item, dict) or not isinstance(item.get("file"), str) or not item["file"].strip():
            raise ValueError(f"pages item {i} must be an object with a 'file' name and a 'page' number")
        page = item.get("page")
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"pages item {i}: 'page' must be a whole number from 1, not {page!r}")
        out.append((item["file"].strip(), page))
    return tuple(out)


def _figures_field(obj: dict[str, Any]) -> tuple[str, ...]:
    figures = obj.get("figures")
    if figures is None:
        return ()
    if not isinstance(figures, list) or not all(isinstance(f, (str, int, float)) and not isinstance(f, bool)
                                                  for f in figures):
        raise ValueError("'figures' must be a list of numbers (or numbers written as text)")
    return tuple(str(f) for f in figures)


def _question_from_object(obj: Any, line: int) -> EvalQuestion:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    question = _text_field(obj, "question", required=True)
    answer = _text_field(obj, "answer", required=False)
    docs, pages = _docs_field(obj), _pages_field(obj)
    if not docs and not pages:
        raise ValueError("no gold evidence: give 'docs' (file names) and/or 'pages' ([{\"file\", \"page\"}])")
    kind = obj.get("type") if isinstance(obj.get("type"), str) else ""
    return EvalQuestion(line, question, answer, docs, pages, kind, _figures_field(obj))


# ------------------------------------------------------------------ CSV (qna_data.csv)

_CSV_COLUMNS = {"question": "Question", "docs": "Source Docs", "answer": "Answer", "kind": "Question Type"}


def _parse_csv(text: str) -> tuple[list[EvalQuestion], list[str]]:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return [], []
    except csv.Error as exc:
        return [], [f"line 1: not a valid CSV header ({exc})"]
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [title for key, title in _CSV_COLUMNS.items()
               if key in ("question", "docs") and title.lower() not in columns]
    if missing:
        return [], [f"line 1: the CSV header has no column {', '.join(repr(m) for m in missing)} "
                    f"(expected {', '.join(_CSV_COLUMNS.values())})"]
    index = {key: columns.get(title.lower()) for key, title in _CSV_COLUMNS.items()}
    return _csv_records(reader, index)


def _csv_records(reader: Any, index: dict[str, int | None]) -> tuple[list[EvalQuestion], list[str]]:
    questions: list[EvalQuestion] = []
    problems: list[str] = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {start}: not valid CSV ({exc})")
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            i = index[key]
            return row[i].strip() if i is not None and i < len(row) else ""

        question, docs = cell("question"), [d.strip() for d in cell("docs").split(",") if d.strip()]
        if not question:
            problems.append(f"line {line}: the Question is empty")
        elif not docs:
            problems.append(f"line {line}: 'Source Docs' is empty (give a file name or glob such as *2023 Q3 AAPL*)")
        else:
            questions.append(EvalQuestion(line, question, cell("answer"), tuple(docs), (), cell("kind")))
    return questions, problems


# ------------------------------------------------------------------ resolving against the library


def match_documents(spec: str, documents: Sequence[DocumentInfo]) -> list[DocumentInfo]:
    """Documents a gold ``docs`` entry names: a glob over file names, else the exact name or path
    (file names compare without case, and ``.pdf`` may be left out)."""
    wanted = spec.strip().lower()
    if _GLOB_CHARS & set(wanted):
        return [d for d in documents if fnmatch.fnmatchcase(d.name.lower(), wanted)]
    exact = [d for d in documents if d.path == spec.strip()]
    if exact:
        return exact
    return [d for d in documents if d.name.lower() in (wanted, f"{wanted}.pdf")]


def _resolve_one(q: EvalQuestion, documents: Sequence[DocumentInfo]) -> tuple[ResolvedQuestion | None, list[str]]:
    problems: list[str] = []
    gold_docs: set[str] = set()
    gold_pages: set[tuple[str, int]] = set()
    names: dict[str, str] = {}
    for spec in q.docs:
        found = match_documents(spec, documents)
        if not found:
            problems.append(f"no document in the library matches {spec!r}")
        for d in found:
            gold_docs.add(d.path)
            names[d.path] = d.name
    for spec, page in q.pages:
        found = match_documents(spec, documents)
        if len(found) != 1:
            problems.append(f"no document in the library is named {spec!r}" if not found
                            else f"{spec!r} names {len(found)} documents; give one file name")
        elif page > found[0].page_count:
            problems.append(f"{found[0].name} has {found[0].page_count} pages; page {page} does not exist")
        else:
            gold_docs.add(found[0].path)
            gold_pages.add((found[0].path, page))
            names[found[0].path] = found[0].name
    if problems:
        return None, problems
    return ResolvedQuestion(q, frozenset(gold_docs), frozenset(gold_pages), names), []


def resolve_questions(
    questions: Sequence[EvalQuestion], documents: Sequence[DocumentInfo], source: str, *, skip_missing: bool = False,
) -> tuple[list[ResolvedQuestion], list[SkippedQuestion]]:
    """Pin each question's gold evidence to indexed documents.

    A question naming a file that is not in the library (or a page it does not have) is an error
    naming its line; with ``skip_missing`` it is left out of the metrics and returned as skipped,
    so the caller reports it.
    """
    indexed = [d for d in documents if d.status == DocumentStatus.INDEXED]
    resolved: list[ResolvedQuestion] = []
    skipped: list[SkippedQuestion] = []
    for q in questions:
        item, problems = _resolve_one(q, indexed)
        if item is not None:
            resolved.append(item)
        else:
            skipped.append(SkippedQuestion(q.line, q.question, "; ".join(problems)))
    if skipped and not skip_missing:
        raise problems_error(source, [f"line {s.line}: {s.reason}" for s in skipped],
                             "(index those files, fix the names, or pass --skip-missing to evaluate the others)")
    return resolved, skipped


# ------------------------------------------------------------------ gold units


def units_of(path: str, page: int, page_end: int, level: str) -> frozenset:
    """What a passage covers at ``level``: its document, or each page of its span."""
    if level == "document":
        return frozenset({path})
    return frozenset((path, p) for p in range(page, max(page, page_end) + 1))


def gold_of(question: ResolvedQuestion, level: str) -> frozenset:
    return question.gold_docs if level == "document" else question.gold_pages


def levels_of(question: ResolvedQuestion) -> tuple[str, ...]:
    """Document level always; page level only when the question has gold pages."""
    return LEVELS if question.gold_pages else ("document",)
