"""The real bundled models end to end through the command line, on a real SEC filing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

APPLE = "2022 Q3 AAPL.pdf"


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop_rag", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import CORPUS

    source = CORPUS / "docs" / APPLE
    if not source.exists():
        pytest.skip("the SEC corpus is not beside this checkout")
    data = tmp_path_factory.mktemp("e2e")
    result = cli(data, "ingest", str(source))
    assert result.returncode == 0, result.stderr
    return data


def test_search_json_finds_the_income_statement(library: Path) -> None:
    # Dense search finds the net-sales table; in hybrid mode the keyword ranking of this many-word
    # query favours prose pages over the table (a known weakness, see README: measured quality).
    result = cli(library, "search", "total net sales three months ended June 25, 2022", "--k", "5",
                 "--mode", "dense", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)  # nothing but JSON on stdout
    assert len(hits) == 5 and {"file", "page", "score", "text"} <= set(hits[0])
    assert any("82,959" in h["text"] for h in hits)
    assert all(h["file"] == APPLE and h["page"] >= 1 for h in hits)


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_search_modes(library: Path, mode: str) -> None:
    result = cli(library, "search", "iPhone net sales", "--mode", mode, "--json")
    assert result.returncode == 0 and json.loads(result.stdout)


def test_ask_json_answers_with_verified_citations(library: Path) -> None:
    result = cli(library, "ask", "What were Apple's total net sales for the three months ended June 25, 2022?",
                 "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"].strip()
    assert {"answer", "citations", "unsupported", "timings"} <= set(answer)
    assert {"retrieve_ms", "first_token_ms", "tokens_per_s"} <= set(answer["timings"])
    for citation in answer["citations"]:
        assert {"n", "file", "page", "text"} <= set(citation) and citation["file"] == APPLE
    # The passages given to the model hold the answer ($82,959 million); the cited ones are real text.
    assert answer["citations"], "the answer should be attributed to at least one passage"


def test_ask_streams_text_then_sources(library: Path) -> None:
    result = cli(library, "ask", "How much did Apple spend on research and development?")
    assert result.returncode == 0, result.stderr
    if "could not find" not in result.stdout:
        heading = "\nSources:\n" if "\nSources:\n" in result.stdout else "\nNo passage supports this answer."
        answer, _, sources = result.stdout.partition(heading)
        assert answer.strip() and sources, result.stdout
        assert re.search(r"^  \[\d+\] .+\.pdf, pages? \d+(\u2013\d+)?$", sources, re.MULTILINE), sources


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_empty_question(library: Path, question: str) -> None:
    result = cli(library, "ask", question)
    assert result.returncode == 1 and "empty" in result.stderr


def test_ask_with_bad_model_paths(library: Path, tmp_path: Path) -> None:
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    missing = cli(library, "ask", "net sales?", "--model", str(tmp_path / "missing.gguf"))
    wrong = cli(library, "ask", "net sales?", "--model", str(not_gguf))
    assert missing.returncode == 1 and "not found" in missing.stderr
    assert wrong.returncode == 1 and "not a GGUF" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr
    # The library is untouched and still answers.
    listing = json.loads(cli(library, "list", "--json").stdout)
    assert [d["file"] for d in listing] == [APPLE]


def test_ask_remote_endpoint_refused(library: Path) -> None:
    result = cli(library, "ask", "net sales?", "--remote-url", "http://127.0.0.1:9/v1", "--remote-model", "x")
    assert result.returncode == 1 and "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_while_answering_stops_cleanly_with_exit_130(library: Path) -> None:
    """SIGINT lands inside llama.cpp's compute: it must stop the answer, not fail it."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "desktop_rag", "--data-dir", str(library), "ask",
                             "Describe every risk factor and each segment's results in detail."],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = proc.stdout.read(1)  # the first output: quotes or the answer's first token
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert seen and proc.returncode == 130, err
    assert "stopped" in err and "Traceback" not in err and "llama_decode" not in err
