"""Pages -> chunks: token-bounded, covering, overlapping, cut at natural breaks, with exact page spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest
from fakes import HashEmbedder

from desktop_rag.core.ingest.chunking import PAGE_JOINER, chunk_pages, join_pages
from desktop_rag.core.types import Chunk, Page

EMBEDDER = HashEmbedder()
tokens = EMBEDDER.token_offsets


def sentence(p: int, s: int) -> str:
    return f"Paragraph {p} sentence {s} mentions item{p}x{s} and nothing else."


def paragraph(p: int, sentences: int) -> str:
    return " ".join(sentence(p, s) for s in range(sentences))


def document(pages: int, paragraphs: int, sentences: int) -> list[Page]:
    return [
        Page(n, "\n\n".join(paragraph(n * 100 + q, sentences) for q in range(paragraphs)))
        for n in range(1, pages + 1)
    ]


def global_span(pages: Sequence[Page], chunk: Chunk) -> tuple[int, int]:
    """(start, end) of a chunk in the joined document text, computed from its page offsets."""
    starts, pos = {}, 0
    for page in pages:
        starts[page.number] = pos
        pos += len(page.text) + len(PAGE_JOINER)
    return starts[chunk.page_start] + chunk.start_offset, starts[chunk.page_end] + chunk.end_offset


def assert_well_formed(pages: Sequence[Page], chunks: Sequence[Chunk], max_tokens: int) -> None:
    text = join_pages(pages)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert len(tokens(chunk.text)) == chunk.token_count <= max_tokens
        start, end = global_span(pages, chunk)
        assert text[start:end] == chunk.text, "page offsets must point at the chunk text"
        assert chunk.page_start <= chunk.page_end
    # Every token of the document lies inside some chunk, and chunks advance in order.
    spans = [global_span(pages, c) for c in chunks]
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(spans, spans[1:]))
    for tok_start, tok_end in tokens(text):
        assert any(s <= tok_start and tok_end <= e for s, e in spans), text[tok_start:tok_end]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(16, 0), (40, 8), (64, 31), (200, 32), (254, 0)])
def test_chunks_fit_cover_and_point_at_their_text(max_tokens: int, overlap: int) -> None:
    pages = document(pages=4, paragraphs=3, sentences=6)
    chunks = chunk_pages(pages, tokens, max_tokens, overlap)
    assert len(chunks) > 1
    assert_well_formed(pages, chunks, max_tokens)


def test_consecutive_chunks_overlap_when_asked() -> None:
    pages = document(pages=2, paragraphs=4, sentences=8)
    chunks = chunk_pages(pages, tokens, 60, 12)
    for prev, nxt in zip(chunks, chunks[1:]):
        prev_end, next_start = global_span(pages, prev)[1], global_span(pages, nxt)[0]
        assert next_start < prev_end, "the next chunk repeats the end of the previous one"
        shared = len(tokens(join_pages(pages)[next_start:prev_end]))
        assert 1 <= shared <= 12
        assert nxt.text[0].isalnum() and join_pages(pages)[next_start - 1].isspace(), "overlap starts at a word"


def test_no_overlap_means_chunks_meet_without_sharing() -> None:
    pages = document(pages=2, paragraphs=4, sentences=8)
    chunks = chunk_pages(pages, tokens, 60, 0)
    text = join_pages(pages)
    for prev, nxt in zip(chunks, chunks[1:]):
        prev_end, next_start = global_span(pages, prev)[1], global_span(pages, nxt)[0]
        assert prev_end <= next_start and not text[prev_end:next_start].strip()


def test_chunks_end_at_paragraph_breaks_when_paragraphs_fit() -> None:
    pages = document(pages=1, paragraphs=8, sentences=4)  # ~48 tokens a paragraph
    text = join_pages(pages)
    chunks = chunk_pages(pages, tokens, 120, 0)
    assert len(chunks) >= 3
    for chunk in chunks[:-1]:
        end = global_span(pages, chunk)[1]
        assert text[end:end + 2] == "\n\n", f"chunk {chunk.ordinal} does not end at a paragraph"
    assert all(c.text.startswith("Paragraph") for c in chunks)


def test_chunks_end_at_sentence_ends_inside_one_long_paragraph() -> None:
    pages = [Page(1, paragraph(1, 40))]
    chunks = chunk_pages(pages, tokens, 50, 0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith("else."), chunk.text[-30:]
        assert chunk.text.startswith("Paragraph 1 sentence")


def test_without_sentences_chunks_end_between_words() -> None:
    words = " ".join(f"w{i}" for i in range(500))
    pages = [Page(1, words)]
    chunks = chunk_pages(pages, tokens, 64, 8)
    assert_well_formed(pages, chunks, 64)
    for chunk in chunks:
        assert set(chunk.text.split()) <= set(words.split()), "no word is cut in half"


def test_text_without_any_break_is_cut_hard_at_the_limit() -> None:
    pages = [Page(1, "x." * 300)]  # 600 tokens, no whitespace anywhere
    chunks = chunk_pages(pages, tokens, 50, 10)
    assert_well_formed(pages, chunks, 50)
    assert max(c.token_count for c in chunks) == 50


def test_a_chunk_crossing_a_page_break_records_both_pages() -> None:
    pages = [Page(1, "First page opens the story."), Page(2, "Second page goes on."), Page(3, "Third ends.")]
    [chunk] = chunk_pages(pages, tokens, 200, 0)
    assert (chunk.page_start, chunk.page_end) == (1, 3)
    assert (chunk.start_offset, chunk.end_offset) == (0, len(pages[2].text))
    assert chunk.text == PAGE_JOINER.join(p.text for p in pages)


def test_page_spans_over_many_short_pages() -> None:
    pages = [Page(n, f"Page {n} has a short sentence about topic{n}.") for n in range(1, 31)]
    chunks = chunk_pages(pages, tokens, 30, 5)
    assert_well_formed(pages, chunks, 30)
    assert any(c.page_end > c.page_start for c in chunks)
    for chunk in chunks:
        first = pages[chunk.page_start - 1].text
        last = pages[chunk.page_end - 1].text
        assert chunk.text.startswith(first[chunk.start_offset:][:10])
        assert chunk.text.endswith(last[:chunk.end_offset][-10:])
        assert f"topic{chunk.page_start}" in chunk.text or chunk.page_start < chunk.page_end
    assert {n for c in chunks for n in range(c.page_start, c.page_end + 1)} == set(range(1, 31))


def test_offsets_are_right_after_an_empty_page_and_with_leading_whitespace() -> None:
    pages = [Page(1, ""), Page(2, "  \n Indented start of page two."), Page(3, ""), Page(4, "Page four.")]
    chunks = chunk_pages(pages, tokens, 200, 0)
    [chunk] = chunks
    assert (chunk.page_start, chunk.start_offset) == (2, pages[1].text.index("Indented"))
    assert (chunk.page_end, chunk.end_offset) == (4, len("Page four."))
    assert_well_formed(pages, chunks, 200)


def test_page_numbers_are_taken_from_the_pages_not_their_positions() -> None:
    pages = [Page(5, "Fifth page text."), Page(6, "Sixth page text.")]
    [chunk] = chunk_pages(pages, tokens, 200, 0)
    assert (chunk.page_start, chunk.page_end) == (5, 6)


def test_tiny_input_is_one_chunk() -> None:
    [chunk] = chunk_pages([Page(1, "Hello")], tokens, 200, 32)
    assert chunk == Chunk(0, "Hello", 1, 1, 0, 5, 1)


@pytest.mark.parametrize("pages", [[], [Page(1, "")], [Page(1, "   \n\n  "), Page(2, "\t")]])
def test_empty_input_gives_no_chunks(pages: list[Page]) -> None:
    assert chunk_pages(pages, tokens, 200, 32) == []


@pytest.mark.parametrize(("max_tokens", "overlap"), [(7, 0), (16, 8), (16, -1)])
def test_invalid_sizes_are_rejected(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_pages([Page(1, "text")], tokens, max_tokens, overlap)


@pytest.mark.integration
def test_real_model_never_truncates_a_chunk_of_a_real_filing(corpus: Path) -> None:
    from transformers import AutoTokenizer

    from desktop_rag.config import DEFAULT_EMBED_BATCH_SIZE, DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S
    from desktop_rag.core.ingest.extract import PdfExtractor
    from desktop_rag.core.models.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(batch_size=DEFAULT_EMBED_BATCH_SIZE)
    model_dir = embedder.model_path
    window = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))  # the model's own tokenizer, independently loaded
    with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as extractor:
        pages = extractor.extract_document(corpus / "docs" / "2023 Q1 MSFT.pdf").pages
    for max_tokens, overlap in ((embedder.max_tokens, 32), (200, 32)):
        chunks = chunk_pages(pages, embedder.token_offsets, max_tokens, overlap)
        assert len(chunks) > 100
        lengths = [len(tokenizer(c.text)["input_ids"]) for c in chunks]  # with [CLS] and [SEP]
        worst = max(range(len(chunks)), key=lengths.__getitem__)
        assert lengths[worst] <= window, f"chunk {worst} would be truncated: {chunks[worst].text[:200]!r}"
        assert lengths[worst] > 0.8 * min(max_tokens, window), "chunks should use the window they have"
        text = join_pages(pages)
        for chunk in chunks:
            start, end = global_span(pages, chunk)
            assert text[start:end] == chunk.text
