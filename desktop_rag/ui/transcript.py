"""HTML for the chat transcript. Model output and document text are plain text: every piece is escaped.

An answer shows first what the documents say: up to three lines quoted verbatim from the passages
("From your documents"), each over a link ``quote:<message>:<i>`` naming its file and page, on a
tinted background so they read as evidence, apart from the model's words. When search was unsure
(passages found, no line answers) a note says so instead. The model's sentences follow.

The only markup in the transcript is ours: citation markers are links ``cite:<message>:<n>``
placed after the sentence they support, and sentences no source supports are links
``unsupported:<message>:<sentence>`` drawn in a warning colour with an underline (hovering one
shows why); so are sentences stating figures that none of the quotes state, when the question asks
for an amount (``unquoted:<message>:<sentence>``). Nothing the model or a document says can become
a link, an image or a tag.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Collection, Sequence

from PySide6.QtGui import QColor, QPalette

from desktop_rag.core.answer.answerer import UNSURE
from desktop_rag.core.ingest.formats import place_label
from desktop_rag.core.answer.citations import strip_markers
from desktop_rag.core.store.conversations import StoredMessage
from desktop_rag.core.types import Quote
from desktop_rag.ui.page_view import HIGHLIGHT_EDGE, HIGHLIGHT_FILL

UNSUPPORTED_TIP = "No retrieved passage supports this sentence. Check it against your documents."
UNQUOTED_TIP = "No quoted line states this figure: check it against the quotes above."
LEGEND = "Underlined sentences are not supported by any source: check them."
UNQUOTED_LEGEND = "Underlined sentences state figures that no quoted line states: check them against the quotes."
QUOTES_TITLE = "From your documents"
QUOTE_TIP = "Show this line highlighted on its page"
LINK_KINDS = ("cite", "unsupported", "unquoted", "quote", "thinking")
THINKING_TIP = "The model's reasoning before it answered: not checked against your documents"
# Quotes wear the page preview's highlighter colours (faintly behind, a bar beside): the same
# colours mark them on their page.
QUOTE_TINT_SHARE = (0.10, 0.16)  # how much of the highlighter's yellow: dark, light palettes
QUOTE_BAR = HIGHLIGHT_EDGE.name()


def _blend(base: QColor, tint: QColor, share: float) -> str:
    """``base`` moved ``share`` of the way to ``tint`` (its opacity ignored), as #rrggbb."""
    mix = [round(b + (t - b) * share) for b, t in zip(base.getRgb()[:3], tint.getRgb()[:3], strict=True)]
    return QColor(*mix).name()


@dataclass(frozen=True)
class Colors:
    text: str
    muted: str
    link: str
    warning: str
    user_background: str
    answer_background: str
    quote_background: str = "#fdf6e0"

    @classmethod
    def from_palette(cls, palette: QPalette) -> "Colors":
        base = palette.color(QPalette.ColorRole.Base)
        dark = base.lightness() < 128
        return cls(
            text=palette.color(QPalette.ColorRole.Text).name(),
            muted=palette.color(QPalette.ColorRole.PlaceholderText).name(),
            link=palette.color(QPalette.ColorRole.Link).name(),
            warning="#ffb74d" if dark else "#a04c00",
            user_background=palette.color(QPalette.ColorRole.AlternateBase).name(),
            answer_background=base.name(),
            quote_background=_blend(base, HIGHLIGHT_FILL, QUOTE_TINT_SHARE[0 if dark else 1]),
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
            flag = "unsupported" if not sentence.supported else "unquoted" if sentence.unquoted else ""
            if flag:
                text = (f'<a href="{flag}:{index}:{i}" style="color:{colors.warning}; '
                        f'text-decoration:underline">{text}</a>')
            parts.append(text + _markers(index, sentence.citations, colors))
        body = " ".join(parts)
    notes = []
    if message.stopped:
        notes.append("Stopped.")
    if message.error:
        notes.append(f"The answer failed: {escape(message.error)}")
    sentences = message.sentences
    legends = [legend for legend, shown in ((LEGEND, any(not s.supported for s in sentences)),
                                            (UNQUOTED_LEGEND, any(s.unquoted for s in sentences)))
               if shown]
    if legends:
        notes.append(f'<span style="color:{colors.warning}">⚠ {" ".join(legends)}</span>')
    elif message.citations and not message.found_nothing:
        files = sorted({c.file for c in message.citations})
        notes.append("Sources: " + escape(", ".join(files)))
    if notes:
        body += f'<br><span style="color:{colors.muted}; font-size:small">{" ".join(notes)}</span>'
    return body


def _quote_row(quote: Quote, index: int, i: int, colors: Colors) -> str:
    where = escape(f"{quote.file}, {place_label(quote.path, quote.page, quote.page, quote.label)}")
    gap = '<tr><td colspan="2" style="font-size:3pt">&nbsp;</td></tr>' if i else ""  # a break in the bar
    columns = (f'<br><span style="color:{colors.muted}; font-size:small">columns: {escape(quote.context)}</span>'
               if quote.context else "")
    return (f'{gap}<tr><td width="3" style="background-color:{QUOTE_BAR}"></td><td>\u201c{escape(quote.text)}\u201d'
            f'{columns}<br><a href="quote:{index}:{i}" style="color:{colors.link}; font-size:small; '
            f'text-decoration:none">{where}</a></td></tr>')


def quotes_html(message: StoredMessage, index: int, colors: Colors) -> str:
    """What the documents say, verbatim, before the model's answer; or why there is nothing."""
    if message.unsure:
        return f'<p style="color:{colors.warning}">{escape(UNSURE)}</p>'
    if not message.quotes:
        return ""
    rows = "".join(_quote_row(q, index, i, colors) for i, q in enumerate(message.quotes))
    return (f'<table width="100%" cellpadding="5" cellspacing="0" style="background-color:'
            f'{colors.quote_background}; margin-top:4px; margin-bottom:8px"><tr><td colspan="2">'
            f'<span style="color:{colors.muted}; font-size:small; font-weight:600">{QUOTES_TITLE}</span>'
            f"</td></tr>{rows}</table>")


def thinking_html(message: StoredMessage, index: int, colors: Colors, expanded: bool) -> str:
    """A reasoning model's thinking, folded to one line (a link that unfolds it); "" if none."""
    thinking = message.extra.get("thinking") if message.role == "assistant" else None
    if not isinstance(thinking, str) or not thinking.strip():
        return ""
    words = len(thinking.split())
    label = f"{'▾' if expanded else '▸'} Thinking ({words} word{'s' if words != 1 else ''})"
    head = (f'<a href="thinking:{index}:0" style="color:{colors.muted}; font-size:small; text-decoration:none">'
            f"{label}</a>")
    if not expanded:
        return f"<p>{head}</p>"
    return (f'<p>{head}<br><span style="color:{colors.muted}; font-size:small; font-style:italic">'
            f"{escape(thinking.strip())}</span></p>")


def scope_note(message: StoredMessage, colors: Colors) -> str:
    """" · in: <collection or documents>" after an answer's label, when it did not search everything."""
    scope = message.extra.get("scope") if message.role == "assistant" else None
    if not isinstance(scope, str) or not scope:
        return ""
    return f'<span style="color:{colors.muted}; font-size:small; font-weight:normal"> · in: {escape(scope)}</span>'


def message_html(message: StoredMessage, index: int, colors: Colors, expanded: bool = False) -> str:
    """One turn; ``expanded``: its thinking (if any) is shown unfolded."""
    if message.role == "user":
        label, body, background = "You", escape(message.text), colors.user_background
    else:
        label, background = "Answer", colors.answer_background
        body = (quotes_html(message, index, colors) + thinking_html(message, index, colors, expanded)
                + answer_body(message, index, colors))
    return (f'<table width="100%" cellpadding="8" cellspacing="0" style="background-color:{background}; '
            f'margin-bottom:6px"><tr><td><span style="color:{colors.muted}; font-weight:600">{label}</span>'
            f"{scope_note(message, colors)}<br>{body}</td></tr></table>")


def transcript_html(messages: Sequence[StoredMessage], colors: Colors,
                    streaming: StoredMessage | None = None, expanded: Collection[int] = ()) -> str:
    """The whole conversation; with ``streaming`` (the answer being written: its quotes so far, no
    text) the last block is that answer's quotes over an empty paragraph to append tokens to.
    ``expanded``: the messages whose thinking is shown unfolded."""
    blocks = [message_html(m, i, colors, i in expanded) for i, m in enumerate(messages)]
    if streaming is not None:
        thinking = (f'<p style="color:{colors.muted}; font-size:small">▸ Thinking…</p>'
                    if streaming.extra.get("thinking") else "")
        blocks.append(f'<p style="color:{colors.muted}; font-weight:600">Answer{scope_note(streaming, colors)}</p>'
                      f"{quotes_html(streaming, len(messages), colors)}{thinking}<p></p>")
    return f'<div style="color:{colors.text}">' + "".join(blocks) + "</div>"


def parse_link(href: str) -> tuple[str, int, int] | None:
    """(link kind, message index, number) from a transcript link (kinds: :data:`LINK_KINDS`), else None.
    The number is a citation's [n], a sentence's index or a quote's index in its answer."""
    parts = href.split(":")
    if len(parts) != 3 or parts[0] not in LINK_KINDS:
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None
