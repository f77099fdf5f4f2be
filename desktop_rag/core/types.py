"""Small value classes passed between the stages of the pipeline, and the vocabulary they share.

Long operations are generators that yield progress and return a result; :class:`Events` and
:func:`run_to_end` are the one way core code runs such a generator inside another operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Generator, Generic, Iterator, TypeVar

E = TypeVar("E")
R = TypeVar("R")


class RetrievalMode(StrEnum):
    """How search ranks passages: by meaning (embeddings), by words (BM25), or both fused.

    A ``StrEnum``: a mode compares equal to its value and prints as it, so settings files, JSON
    reports and messages hold the plain word.
    """

    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"


RETRIEVAL_MODES: tuple[str, ...] = tuple(m.value for m in RetrievalMode)


class DocumentStatus(StrEnum):
    """What the library holds for a file: its passages, or the reason it could not be read."""

    INDEXED = "indexed"
    FAILED = "failed"


# A word a page was read by OCR: its character span in the page text (start, end) and its box on the
# page in PDF points from the top-left corner (left, top, right, bottom).
WordBox = tuple[int, int, float, float, float, float]


@dataclass(frozen=True, slots=True)
class Page:
    """Text of one page. ``number`` is 1-based, as the user sees it in a viewer. A document that has
    no pages (.docx, .md, .html, .txt) is stored as sections, one per page: ``label`` names the
    section as the user finds it ("Install > On Linux", "lines 41-80"); "" for a PDF page.
    ``ocr_words`` is None for text from a text layer, the words' boxes for a page read by OCR."""

    number: int
    text: str
    label: str = ""
    ocr_words: tuple[WordBox, ...] | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of a document's text sized for the embedder.

    ``start_offset`` is a character offset in the text of ``page_start`` and ``end_offset`` one in
    the text of ``page_end`` (exclusive), so the passage can be highlighted on its page(s).
    """

    ordinal: int
    text: str
    page_start: int
    page_end: int
    start_offset: int
    end_offset: int
    token_count: int


@dataclass(frozen=True, slots=True)
class DocumentProfile:
    """What names a document to a question: its file name, title and the start of its first page."""

    doc_id: int
    name: str
    title: str
    cover: str
    passages: int = 0  # how many passages it was split into (0: not known)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    path: str
    name: str
    sha256: str
    size: int
    mtime: float
    page_count: int
    chunk_count: int
    status: DocumentStatus
    error: str
    added_at: float
    title: str = ""
    ocr_pages: int = 0  # pages read by OCR (scans)


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk with where it came from."""

    chunk_id: int
    doc_id: int
    file: str
    path: str
    page: int
    page_end: int
    start_offset: int
    end_offset: int
    score: float
    text: str
    label: str = ""  # where its first page is, for documents other than PDFs ("Install > On Linux")


class Stage(str, Enum):
    QUEUED = "queued"
    HASHING = "hashing"
    EXTRACTING = "extracting"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    STORING = "storing"
    INDEXED = "indexed"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STAGES = frozenset({Stage.INDEXED, Stage.SKIPPED, Stage.FAILED, Stage.CANCELLED})


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """One progress point of ingestion; every one is also a cancel point."""

    path: str
    stage: Stage
    file_index: int
    file_count: int
    pages_done: int = 0
    pages_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    message: str = ""

    @property
    def is_final(self) -> bool:
        return self.stage in FINAL_STAGES


@dataclass(slots=True)
class FileOutcome:
    path: str
    stage: Stage
    message: str = ""
    pages: int = 0
    chunks: int = 0


@dataclass(slots=True)
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def of(self, stage: Stage) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.stage == stage]

    @property
    def indexed(self) -> list[FileOutcome]:
        return self.of(Stage.INDEXED)

    @property
    def skipped(self) -> list[FileOutcome]:
        return self.of(Stage.SKIPPED)

    @property
    def failed(self) -> list[FileOutcome]:
        return self.of(Stage.FAILED)

    @property
    def pages(self) -> int:
        return sum(o.pages for o in self.indexed)


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved passage as numbered in the prompt: one chunk, or neighbours merged."""

    number: int
    doc_id: int
    file: str
    path: str
    page: int
    page_end: int
    start_offset: int
    end_offset: int
    chunk_ids: tuple[int, ...]
    text: str
    label: str = ""  # the heading path of its first page (section), for documents other than PDFs


UNKNOWN_DOC_ID = 0  # no document has it (ids start at 1): a citation saved before ids were kept


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage the answer relies on; ``number`` is the [n] shown in the answer.

    ``doc_id`` is the document's id in the library, :data:`UNKNOWN_DOC_ID` in conversations saved
    by versions that did not keep it (find the document by ``chunk_id`` then).
    """

    number: int
    file: str
    path: str
    page: int
    chunk_id: int
    text: str
    start_offset: int
    end_offset: int
    page_end: int
    doc_id: int
    label: str = ""  # the heading path of its page (section), for documents other than PDFs


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence or table row copied verbatim from a passage given to the model, with where it is:
    character offsets ``start_offset``-``end_offset`` in the text of ``page``; ``passage`` is its [n]."""

    text: str
    file: str
    path: str
    page: int
    doc_id: int
    start_offset: int
    end_offset: int
    passage: int
    context: str = ""  # for a table row: the header lines above it that name its columns
    label: str = ""  # the heading path of its page (section), for documents other than PDFs


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]
    supported: bool
    score: float = 0.0
    unquoted: bool = False  # supported, but states amounts none of the quotes state (the question asks an amount)


@dataclass(slots=True)
class Answer:
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    found_nothing: bool = False
    unsure: bool = False  # passages were found, but no line of them answers the question well
    stopped: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    thinking: str = ""  # a reasoning model's <think> part, kept apart from the answer

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if not s.supported]

    @property
    def unquoted(self) -> list[str]:
        """Sentences whose amounts are none of the quotes' (see ``AnswerSentence.unquoted``: only a
        supported sentence is marked)."""
        return [s.text for s in self.sentences if s.unquoted]


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    """Streamed while answering: ``kind`` is 'retrieved' (passages and quotes), 'token' (text) or 'done'."""

    kind: str
    text: str = ""
    passages: tuple[Passage, ...] = ()
    quotes: tuple[Quote, ...] = ()
    unsure: bool = False  # with 'retrieved': passages were found but no line of them answers well


# ------------------------------------------------------------------ running progress generators


class Events(Generic[E, R]):
    """The events of a progress generator, for a ``for`` loop; ``result`` is what it returned.

    For a caller that is itself a generator but yields events of another kind::

        events = Events(ingestion.run(paths))
        for event in events:
            yield EvalProgress(...)
        report = events.result
    """

    def __init__(self, gen: Generator[E, Any, R]) -> None:
        self._gen = gen
        self.result: R | None = None

    def __iter__(self) -> Iterator[E]:
        self.result = yield from self._gen


def run_to_end(gen: Generator[Any, Any, R]) -> R:
    """Run a progress generator to its end, ignoring its events; return what it returned."""
    events = Events(gen)
    for _ in events:
        pass
    return events.result  # type: ignore[return-value]  # set once the loop has run to the end
