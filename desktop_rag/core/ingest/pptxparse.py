"""PowerPoint (.pptx) -> one section per slide, with python-pptx (MIT).

Runs in the extraction child (see :mod:`.textparse`), after :func:`.packages.check_package`. Each
slide is one stored page, numbered as the slide is, so a citation reads "slide 3: Quarterly results":
its label is the slide's title. A slide's text is its title, then the text of its other shapes in
order (groups entered, each table row one line with its cells joined by " | "), then its speaker
notes. A slide without text is kept as an empty page, so the numbers stay the slides'.
"""

from __future__ import annotations

from typing import Any, Iterable

from desktop_rag.core.ingest.packages import check_package, read_package


DAMAGED = "the PowerPoint file is damaged and cannot be read"
NOTES = "Notes: "


def pptx_slides(path: str) -> tuple[list[tuple[str, str]], str]:
    """(text, label) for each slide in order, and the presentation's title; or :class:`Refused`."""
    check_package(path, "PowerPoint presentation (.pptx)", "ppt/presentation.xml")
    from pptx import Presentation

    def read() -> tuple[list, str]:
        presentation = Presentation(path)
        return [_slide(slide) for slide in presentation.slides], (presentation.core_properties.title or "").strip()

    slides, title = read_package(read, path, "python-pptx", DAMAGED)
    return slides, title or next((label for _, label in slides if label), "")


def _slide(slide: Any) -> tuple[str, str]:
    heading = slide.shapes.title
    title = " ".join(heading.text_frame.text.split()) if heading is not None and heading.has_text_frame else ""
    parts = [title] if title else []
    parts += [text for shape in slide.shapes if shape is not heading for text in _texts(shape)]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text.strip()
        if notes:
            parts.append(NOTES + notes)
    return "\n\n".join(parts), title


def _texts(shape: Any) -> Iterable[str]:
    """The text of a shape: its paragraphs, a table's rows, a group's shapes."""
    if getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):  # a group
        for inner in shape.shapes:
            yield from _texts(inner)
        return
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [" | ".join(c for c in (" ".join(cell.text.split()) for cell in row.cells) if c)
                for row in shape.table.rows]
        text = "\n".join(r for r in rows if r)
        if text:
            yield text
        return
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        lines = [" ".join(p.text.split()) for p in shape.text_frame.paragraphs]
        text = "\n".join(line for line in lines if line)
        if text:
            yield text
