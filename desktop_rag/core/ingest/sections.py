"""Blocks of a document (headings and paragraphs) -> sections, each one stored page with a label.

Runs in the extraction child (see :mod:`.textparse`). A section starts at a heading and holds the
paragraphs up to the next heading; its label is the heading path ("Install > On Linux"; a level-1
heading that opens the document and is its only one is its title, left out of the paths). A heading
followed at once by a deeper one stays with it (no section holds a heading alone). A section longer
than ``max_chars`` is cut at paragraph breaks into parts labelled "(part 2)", .... Text without
headings is cut the same way; a block's line numbers, when known, label such parts ("lines 41-80").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_rag.core.ingest.formats import HEADING_JOINER, SECTION_CHARS

PARAGRAPH_JOINER = "\n\n"


class Refused(Exception):
    """A file the extraction child will not read; ``str()`` is the reason, without the file's name."""


@dataclass(frozen=True, slots=True)
class Block:
    """A heading (``level`` 1-6) or a paragraph (``level`` 0); ``first_line``/``last_line`` are
    1-based line numbers in the file when the format has lines that mean something (plain text)."""

    level: int
    text: str
    first_line: int = 0
    last_line: int = 0


@dataclass
class _Open:
    path: list[tuple[int, str]]
    blocks: list[Block] = field(default_factory=list)
    part: int = 1

    def size(self) -> int:
        return sum(len(b.text) + len(PARAGRAPH_JOINER) for b in self.blocks)

    def has_body(self) -> bool:
        return any(b.level == 0 for b in self.blocks)


def paragraphs(text: str, first_line: int = 1) -> list[Block]:
    """Blank-line separated paragraphs of ``text`` as blocks, with their line numbers."""
    blocks: list[Block] = []
    lines: list[str] = []
    top = first_line
    for number, line in enumerate(text.split("\n"), first_line):
        if line.strip():
            top = number if not lines else top
            lines.append(line.rstrip())
        elif lines:
            blocks.append(Block(0, "\n".join(lines), top, number - 1))
            lines = []
    if lines:
        blocks.append(Block(0, "\n".join(lines), top, top + len(lines) - 1))
    return blocks


def sections(blocks: list[Block], max_chars: int = SECTION_CHARS) -> list[tuple[str, str]]:
    """(text, label) for each section of the document, in order; empty when it has no text."""
    done: list[tuple[str, str]] = []
    title_level = _title_level(blocks)
    current = _Open([])
    for block in blocks:
        if not block.text.strip():
            continue
        if block.level:
            current = _heading(done, current, block, title_level)
            continue
        if current.has_body() and current.size() + len(block.text) > max_chars:
            done.append(_close(current, title_level))
            current = _Open(current.path, part=current.part + 1)
        current.blocks.append(block)
    if current.blocks:
        done.append(_close(current, title_level))
    return done


def _title_level(blocks: list[Block]) -> int:
    """1 when the document opens with its one level-1 heading (its title: left out of the paths), else 0."""
    first = next((b for b in blocks if b.text.strip()), None)
    return 1 if first is not None and first.level == 1 and sum(b.level == 1 for b in blocks) == 1 else 0


def _heading(done: list[tuple[str, str]], current: _Open, block: Block, title_level: int) -> _Open:
    """The section a heading opens; the one before is closed unless it holds only headings above it."""
    deeper = not current.has_body() and current.blocks and block.level > current.path[-1][0]
    path = [(level, text) for level, text in current.path if level < block.level]
    path.append((block.level, " ".join(block.text.split())))
    if deeper:
        current.path = path
        current.blocks.append(block)
        return current
    if current.blocks:
        done.append(_close(current, title_level))
    return _Open(path, [block])


def _close(section: _Open, title_level: int) -> tuple[str, str]:
    text = PARAGRAPH_JOINER.join(b.text for b in section.blocks)
    kept = [heading for level, heading in section.path if level != title_level]
    label = HEADING_JOINER.join(kept or [heading for _, heading in section.path])
    if not label:
        lines = [b for b in section.blocks if b.first_line]
        if lines:
            first, last = lines[0].first_line, lines[-1].last_line
            label = f"line {first}" if first == last else f"lines {first}\u2013{last}"
    elif section.part > 1:
        label = f"{label} (part {section.part})"
    return text, label
