"""HTML for the chat transcript. Model output is plain text: every piece of it is escaped.

The only markup in the transcript is ours: citation markers are links ``cite:<message>:<n>``
placed after the sentence they support, and sentences no source supports are links
``unsupported:<message>:<sentence>`` drawn in a warning colour with an underline (hovering one
shows why). Nothing the model writes can become a link, an image or a tag.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

from PySide6.QtGui import QPalette

from desktop_rag.core.answer.citations import strip_markers
from desktop_rag.core.store.conversations import StoredMessage

UNSUPPORTED_TIP = "No retrieved passage supports this sentence. Check it against your documents."
LEGEND = "Underlined sentences are not supported by any source: check them."


@dataclass(frozen=True)
class Colors:
    text: str
    muted: str
    link: str
    warning: str
    user_background: str
    answer_background: str

    @classmethod
    def from_palette(cls, palette: QPalette) -> "Colors":
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        return cls(
            text=palette.color(QPalette.ColorRole.Text).name(),
            muted=palette.color(QPalette.ColorRole.PlaceholderText).name(),
            link=palette.color(QPalette.ColorRole.Link).name(),
            warning="#ffb74d" if dark else "#a04c00",
            user_background=palette.color(QPalette.ColorRole.AlternateBase).name(),
            answer_background=palette.color(QPalette.ColorRole.Base).name(),
        )


def escape(text: str) -> str:
    return html.escape(text, quote=True).replace("\n", "<br>")


def _markers(message_index: int, numbers: Sequence[int], colors: Colors) -> str:
    links = "".join(f'<a href="cite:{message_index}:{n}" style="color:{colors.link}; text-decoration:none">'
                    f"[{n}]</a>" for n in numbers)
    return f"<sup>{links}</sup>" if links else ""


def answer_body(message: StoredMessage, index: int, colors: Colors) -> str:
    """The answer's sentences with clickable markers; unsupported ones marked."""
    if not message.sentences:
        body = escape(message.text)
    else:
        parts = []
        for i, sentence in enumerate(message.sentences):
            text = escape(strip_markers(sentence.text))
            if not sentence.supported:
                text = (f'<a href="unsupported:{index}:{i}" style="color:{colors.warning}; '
                        f'text-decoration:underline">{text}</a>')
            parts.append(text + _markers(index, sentence.citations, colors))
        body = " ".join(parts)
    notes = []
    if message.stopped:
        notes.append("Stopped.")
    if message.error:
        notes.append(f"The answer failed: {escape(message.error)}")
    if any(not s.supported for s in message.sentences):
        notes.append(f'<span style="color:{colors.warning}">⚠ {LEGEND}</span>')
    elif message.citations and not message.found_nothing:
        files = sorted({c.file for c in message.citations})
        notes.append("Sources: " + escape(", ".join(files)))
    if notes:
        body += f'<br><span style="color:{colors.muted}; font-size:small">{" ".join(notes)}</span>'
    return body


def message_html(message: StoredMessage, index: int, colors: Colors) -> str:
    if message.role == "user":
        label, body, background = "You", escape(message.text), colors.user_background
    else:
        label, body, background = "Answer", answer_body(message, index, colors), colors.answer_background
    return (f'<table width="100%" cellpadding="8" cellspacing="0" style="background-color:{background}; '
            f'margin-bottom:6px"><tr><td><span style="color:{colors.muted}; font-weight:600">{label}</span>'
            f"<br>{body}</td></tr></table>")


def transcript_html(messages: Sequence[StoredMessage], colors: Colors, streaming: bool = False) -> str:
    """The whole conversation; with ``streaming`` the last block is an empty answer to append to."""
    blocks = [message_html(m, i, colors) for i, m in enumerate(messages)]
    if streaming:
        blocks.append(f'<p style="color:{colors.muted}; font-weight:600">Answer</p><p></p>')
    return f'<div style="color:{colors.text}">' + "".join(blocks) + "</div>"


def parse_link(href: str) -> tuple[str, int, int] | None:
    """('cite'|'unsupported', message index, number) from a transcript link, else None."""
    parts = href.split(":")
    if len(parts) != 3 or parts[0] not in ("cite", "unsupported"):
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None
