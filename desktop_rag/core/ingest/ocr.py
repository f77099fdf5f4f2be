"""Reading pages that have no text layer (scans): render them with pdfium, read them with RapidOCR.

This runs inside the extraction child of :mod:`desktop_rag.core.ingest.extract`, under its time and
memory limits, one page at a time, reporting each page before reading it. RapidOCR's wheel carries
its detection and recognition models (PP-OCRv6, ONNX), and they are loaded from the package's own
folder by path, so nothing is ever downloaded. A page is read when its text layer is empty or
nearly so (fewer than :data:`MIN_TEXT_CHARS` characters that are not spaces) and it draws an image.

The text of an OCR page is its detected lines, top to bottom, one per line, words joined by one
space; each word keeps its box in PDF points (top-left origin, as the page is shown), with its
character span in that text, so the preview can highlight a passage on the scanned image
(:func:`desktop_rag.core.ingest.render.render_page`).

A page whose images are too large to decode safely (a decompression bomb, :data:`MAX_IMAGE_PIXELS`)
is not rendered; its reason is kept so the user is told which page and why.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any, Callable, Sequence

from desktop_rag.core.types import WordBox

log = logging.getLogger(__name__)

OCR_DPI = 120.0  # 10-point text is ~17 px high: read well; the recogniser scales lines to 48 px anyway
MIN_TEXT_CHARS = 20  # a page number or a stamp on a scan is not a text layer
MAX_RENDER_PIXELS = 12_000_000  # a poster-sized page is read at a lower resolution, not at 20000^2 px
MAX_IMAGE_PIXELS = 200_000_000  # an embedded image larger than this is not decoded (~600 MB as RGB)
IMAGE_OBJECT = 3  # FPDF_PAGEOBJ_IMAGE
# Lines recognised at once. RapidOCR's 6 pads long lines into big tensors: 1.15 GB peak RSS on a dense
# 10-Q page, against 0.56 GB with 2, and no slower on 2 cores; the 2 GB address-space cap then holds.
REC_BATCH = 2
_MEMORY_WORDS = ("failed to map segment", "bad_alloc", "bad allocation", "failed to allocate", "insufficient memory",
                 "cannot allocate memory", "out of memory")

Report = Callable[[int, int, int, int], None]  # position among the pages to read (1-based), how many, page number, page count


class OcrUnavailable(Exception):
    """The OCR engine is not installed, or could not be loaded; the message says which and why."""


def out_of_memory(exc: BaseException) -> bool:
    """An error that is the address-space cap talking: a library that could not be mapped, an allocation
    onnxruntime or OpenCV could not make."""
    if isinstance(exc, MemoryError) or getattr(exc, "errno", None) == errno.ENOMEM:
        return True
    text = str(exc).lower()
    return any(words in text for words in _MEMORY_WORDS)


def nearly_empty(text: str) -> bool:
    """Whether a page's text layer is empty or nearly so (then its images may hold its text)."""
    return sum(1 for ch in text if not ch.isspace()) < MIN_TEXT_CHARS


def draws_image(page: Any) -> bool:
    """Whether a pdfium page draws an image (inside forms too, a few levels down)."""
    return any(True for _ in page.get_objects(filter=[IMAGE_OBJECT], max_depth=4))


def models_dir() -> Path:
    """The folder of the models inside the installed RapidOCR package (imported here, in the child)."""
    import rapidocr

    return Path(rapidocr.__file__).parent / "models"


class PageReader:
    """One RapidOCR engine, loaded on first use (a file with no scanned page never loads it)."""

    DET_MODEL, REC_MODEL = "PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"

    def __init__(self, load: Callable[[], Any] | None = None) -> None:
        self._load = load or self._load_rapidocr
        self._engine: Any = None

    def engine(self) -> Any:
        if self._engine is None:
            try:
                self._engine = self._load()
            except (MemoryError, OcrUnavailable):
                raise
            except Exception as exc:
                if out_of_memory(exc):
                    raise MemoryError(str(exc)) from exc
                raise self._unavailable(exc) from exc
        return self._engine

    @staticmethod
    def _unavailable(exc: Exception) -> OcrUnavailable:
        if isinstance(exc, ImportError):
            return OcrUnavailable(f"the OCR engine is not installed ({exc.name or exc})")
        # a damaged model file, an onnxruntime that does not load, ...
        return OcrUnavailable(f"the OCR engine could not be loaded ({type(exc).__name__}: {exc})")

    def _load_rapidocr(self) -> Any:
        from rapidocr import RapidOCR

        folder = models_dir()
        det, rec = folder / self.DET_MODEL, folder / self.REC_MODEL
        for model in (det, rec):
            if not model.is_file():  # RapidOCR would download it: never, here
                raise OcrUnavailable(f"the OCR model {model.name} is missing from the RapidOCR package")
        engine = RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False,
                                  "Global.return_word_box": True, "Rec.rec_batch_num": REC_BATCH,
                                  "Det.model_path": str(det), "Rec.model_path": str(rec)})
        for load in ("_load_det_model", "_load_rec_model"):  # RapidOCR loads them on first use: fail here
            getattr(engine, load, lambda: None)()
        return engine

    def read(self, page: Any) -> tuple[str, list[WordBox]]:
        """The text of one pdfium page and its words' boxes in PDF points."""
        engine = self.engine()
        scale = render_scale(*page.get_size())
        bitmap = page.render(scale=scale, may_draw_forms=True)
        try:
            image = bitmap.to_numpy()
            result = engine(image)
        finally:
            bitmap.close()
        return layout(_lines_of(result), scale)


_SHARED: list[PageReader] = []


def shared_reader() -> PageReader:
    """The child's one reader, for every file it is sent: an engine made per file is not all given back
    (the address space grew ~200 MB a file until the 2 GB cap stopped OCR on the fourth scanned file)."""
    if not _SHARED:
        _SHARED.append(PageReader())
    return _SHARED[0]


def render_scale(width_pt: float, height_pt: float) -> float:
    """Pixels per point: :data:`OCR_DPI`, less for a page that would exceed :data:`MAX_RENDER_PIXELS`."""
    scale = OCR_DPI / 72.0
    pixels = width_pt * height_pt * scale * scale
    if pixels > MAX_RENDER_PIXELS:
        scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
    return scale


def oversized_image(page: Any) -> tuple[int, int] | None:
    """The pixel size of the first image on the page too large to decode safely, or None."""
    for image in page.get_objects(filter=[IMAGE_OBJECT], max_depth=4):
        try:
            width, height = image.get_px_size()
        except Exception:  # noqa: BLE001 - an image pdfium cannot size is left to the renderer
            continue
        if width * height > MAX_IMAGE_PIXELS:
            return width, height
    return None


Line = list[tuple[str, Sequence[Sequence[float]]]]  # (word, its box's four corners in pixels)


def _lines_of(result: Any) -> list[Line]:
    """RapidOCR's lines as lists of words with boxes; a line without word boxes is one word."""
    words = getattr(result, "word_results", None) or ()
    texts = getattr(result, "txts", None) or ()
    boxes = getattr(result, "boxes", None)
    if words and len(words) == len(texts):
        return [[(w[0], w[2]) for w in line] for line in words]
    return [[(text, box)] for text, box in zip(texts, boxes if boxes is not None else ())]


def layout(lines: Sequence[Line], scale: float) -> tuple[str, list[WordBox]]:
    """Page text (a line per detected line, words joined by a space) and each word's span and box."""
    parts: list[str] = []
    boxes: list[WordBox] = []
    offset = 0
    for line in lines:
        words = [(" ".join(str(word).split()), corners) for word, corners in line]
        words = [(word, corners) for word, corners in words if word]
        if not words:
            continue
        if parts:
            parts.append("\n")
            offset += 1
        for index, (word, corners) in enumerate(words):
            if index:
                parts.append(" ")
                offset += 1
            xs, ys = [float(c[0]) for c in corners], [float(c[1]) for c in corners]
            boxes.append((offset, offset + len(word), round(min(xs) / scale, 1), round(min(ys) / scale, 1),
                          round(max(xs) / scale, 1), round(max(ys) / scale, 1)))
            parts.append(word)
            offset += len(word)
    return "".join(parts), boxes


def read_scanned_pages(path: str, numbers: Sequence[int], report: Report,
                       reader: PageReader | None = None) -> dict[str, dict[str, Any]]:
    """OCR of pages ``numbers`` (1-based) of the PDF at ``path``: ``{"texts": {n: text}, "words": {n: boxes},
    "skipped": {n: why}}`` (JSON keys are strings). Raises OcrUnavailable, MemoryError."""
    import pypdfium2 as pdfium

    reader = reader or shared_reader()
    texts: dict[str, str] = {}
    words: dict[str, list[WordBox]] = {}
    skipped: dict[str, str] = {}
    doc = pdfium.PdfDocument(path)
    try:
        for position, number in enumerate(numbers, 1):
            report(position, len(numbers), number, len(doc))
            page = doc[number - 1]
            try:
                too_big = oversized_image(page)
                if too_big is not None:
                    skipped[str(number)] = f"its image is too large to read ({too_big[0]:,} x {too_big[1]:,} pixels)"
                    continue
                texts[str(number)], words[str(number)] = reader.read(page)
            except (OcrUnavailable, MemoryError):
                raise
            except Exception as exc:  # noqa: BLE001 - one unreadable page does not sink the file
                if out_of_memory(exc):  # onnxruntime's std::bad_alloc under the cap: the file's limit
                    raise MemoryError(str(exc)) from exc
                log.info("OCR failed on page %d: %s: %s", number, type(exc).__name__, exc)
                skipped[str(number)] = "OCR could not read it"
            finally:
                page.close()
    finally:
        doc.close()
    return {"texts": texts, "words": words, "skipped": skipped}
