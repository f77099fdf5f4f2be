"""Collections on the command line: ``ingest`` makes one per folder (``--collection``,
``--no-collection``), ``list`` and ``collections ...`` show and change them, and ``search``, ``ask``
and ``eval --in NAME`` never leave them. In process, with the fake embedder and chat model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashEmbedder, StreamingChatModel
from pdfs import write_pdf

from desktop_rag.cli import main

PAGES = {
    "Earth/volcanoes.pdf": ["Volcanoes erupt molten basalt lava from magma chambers deep beneath the crust. " * 3,
                            "Glaciers carve steep fjords in cold northern valleys over thousands of years. " * 3],
    "Earth/rivers.pdf": ["Rivers carry silt and sand down to the delta where the water slows. " * 3],
    "Kitchen/bakery.pdf": ["Bakers knead sourdough with wild yeast and rye flour before proofing. " * 3],
    "harbour.pdf": ["Fishing trawlers unload cod and herring at the harbour pier every dawn. " * 3],
}


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))
    monkeypatch.setattr(Services, "chat_model",
                        lambda self: StreamingChatModel("Volcanoes erupt basalt lava from magma chambers."))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for name, pages in PAGES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_pdf(root / name, pages)
    return root


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def library(tmp_path: Path, docs: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = tmp_path / "data"
    code, _, err = run(capsys, data, "ingest", str(docs / "Earth"), str(docs / "Kitchen"), str(docs / "harbour.pdf"))
    assert code == 0, err
    assert "collection 'Earth': 2 documents" in err and "collection 'Kitchen': 1 document" in err
    return data


def collections_json(capsys: pytest.CaptureFixture[str], data: Path) -> dict[str, tuple[int, int]]:
    code, out, _ = run(capsys, data, "collections", "list", "--json")
    assert code == 0
    return {c["name"]: (c["documents"], c["indexed"]) for c in json.loads(out)}


def test_each_folder_ingested_becomes_a_collection_that_list_shows(library: Path, capsys) -> None:  # noqa: ANN001
    assert collections_json(capsys, library) == {"Earth": (2, 2), "Kitchen": (1, 1)}
    code, out, _ = run(capsys, library, "list")
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert "COLLECTIONS" in out.splitlines()[0]
    assert "Earth" in lines["volcanoes.pdf"] and "Kitchen" in lines["bakery.pdf"] and " - " in lines["harbour.pdf"]
    code, out, _ = run(capsys, library, "list", "--json")
    assert {d["file"]: d["collections"] for d in json.loads(out)} == {
        "bakery.pdf": ["Kitchen"], "harbour.pdf": [], "rivers.pdf": ["Earth"], "volcanoes.pdf": ["Earth"]}


def test_no_collection_and_a_named_collection(tmp_path: Path, docs: Path, capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    assert run(capsys, data, "ingest", str(docs / "Earth"), "--no-collection")[0] == 0
    assert collections_json(capsys, data) == {}
    code, _, err = run(capsys, data, "ingest", str(docs), "--collection", "Everything")  # Earth's files: skipped
    assert code == 0 and "collection 'Everything': 4 documents" in err
    assert collections_json(capsys, data) == {"Everything": (4, 4)}
    with pytest.raises(SystemExit) as usage:
        run(capsys, data, "ingest", str(docs), "--collection", "a", "--no-collection")
    assert usage.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_collections_commands_change_collections_never_documents(library: Path, capsys) -> None:  # noqa: ANN001
    code, _, err = run(capsys, library, "collections", "create", "Water", "rivers", str(library.parent / "docs"
                                                                                         / "harbour.pdf"))
    assert (code, err.strip()) == (0, "created collection 'Water' with 2 documents")
    code, _, err = run(capsys, library, "collections", "add", "water", "rivers.pdf", "volcanoes.pdf")
    assert (code, err.strip()) == (0, "added 1 document to 'Water' (1 were in it already)")
    code, out, _ = run(capsys, library, "collections", "show", "Water", "--json")
    assert sorted(d["file"] for d in json.loads(out)["documents"]) == ["harbour.pdf", "rivers.pdf", "volcanoes.pdf"]
    code, _, err = run(capsys, library, "collections", "remove", "Water", "volcanoes")
    assert (code, err.strip()) == (0, "took 1 document out of 'Water' (they stay in the library)")
    assert run(capsys, library, "collections", "rename", "Water", "Sea and rivers")[0] == 0
    code, _, err = run(capsys, library, "collections", "delete", "sea and rivers")
    assert (code, err.strip()) == (0, "deleted collection 'Sea and rivers' (its 2 documents stay in the library)")
    assert collections_json(capsys, library) == {"Earth": (2, 2), "Kitchen": (1, 1)}
    code, out, _ = run(capsys, library, "list", "--json")
    assert len(json.loads(out)) == 4


@pytest.mark.parametrize(("args", "message"), [
    (["add", "Eart", "rivers.pdf"], "there is no collection named 'Eart' (did you mean 'Earth'?)"),
    (["create", "earth"], "a collection named 'Earth' already exists"),
    (["create", "  "], "a collection needs a name"),
    (["rename", "Kitchen", "EARTH"], "a collection named 'Earth' already exists"),
    (["create", "New", "rivrs.pdf"], "'rivrs.pdf' is not a document in the library (did you mean 'rivers.pdf'?)"),
    (["delete", "Nothing"], "there is no collection named 'Nothing'"),
])
def test_collection_mistakes_are_clear_errors(library: Path, capsys, args: list[str], message: str) -> None:  # noqa: ANN001
    code, out, err = run(capsys, library, "collections", *args)
    assert (code, out) == (1, "") and message in err
    assert collections_json(capsys, library) == {"Earth": (2, 2), "Kitchen": (1, 1)}  # nothing changed


def test_search_and_ask_in_a_collection_never_leave_it(library: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run(capsys, library, "search", "basalt lava magma sourdough trawlers", "--in", "kitchen",
                         "--json", "--k", "10")
    assert code == 0, err
    assert {h["file"] for h in json.loads(out)} == {"bakery.pdf"}
    code, out, _ = run(capsys, library, "search", "lava sourdough trawlers", "--in", "Kitchen", "--in", "harbour",
                       "--json", "--k", "10")
    assert {h["file"] for h in json.loads(out)} == {"bakery.pdf", "harbour.pdf"}
    code, out, err = run(capsys, library, "ask", "Where does basalt lava come from?", "--in", "Earth", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["citations"] and {c["file"] for c in answer["citations"]} <= {"volcanoes.pdf", "rivers.pdf"}


def test_unknown_and_empty_scopes_are_usage_errors(library: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run(capsys, library, "search", "lava", "--in", "Kitchn")
    assert (code, out) == (2, "")
    assert "--in: 'Kitchn' is not a collection or a document in the library (did you mean 'Kitchen' (a collection)" \
           in err
    run(capsys, library, "collections", "create", "Empty")
    for command in (["search", "lava"], ["ask", "Where does lava come from?"]):
        code, out, err = run(capsys, library, *command, "--in", "empty")
        assert (code, out) == (2, "")
        assert "Collection 'Empty' has no indexed documents: nothing to search in." in err


def write_questions(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_eval_in_a_collection_skips_questions_about_other_documents(library: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    questions = write_questions(tmp_path / "q.jsonl", [
        {"question": "Where does basalt lava come from?", "docs": ["volcanoes.pdf"]},
        {"question": "What do bakers knead?", "docs": ["bakery.pdf"]},
        {"question": "What carries silt to the delta?", "docs": ["rivers.pdf", "harbour.pdf"]},
    ])
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, library, "eval", "--questions", str(questions), "--in", "Earth", "--modes", "dense",
                         "--out", str(out_dir))
    assert code == 0, err
    assert "Document level (1 question)" in out
    assert "Skipped 2 question(s), not counted in the metrics:" in out
    assert "line 2: gold document bakery.pdf not in the scope (--in)" in out
    assert "line 3: gold document harbour.pdf not in the scope (--in)" in out
    data = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    [variant] = data["variants"].values()
    assert variant["scope"] == ["Earth"] and variant["scope_documents"] == 2
    hits = data["questions"][0]["retrieval"]
    assert {h["file"] for v in hits.values() for h in v["dense"]["hits"]} <= {"volcanoes.pdf", "rivers.pdf"}
    earth_only = write_questions(tmp_path / "earth.jsonl", [
        {"question": "Where does basalt lava come from?", "docs": ["volcanoes.pdf"]}])
    code, out, err = run(capsys, library, "eval", "--questions", str(earth_only), "--in", "Kitchen", "--in", "harbour")
    assert (code, out) == (2, "")
    assert "no question has all its gold documents in 'Kitchen', 'harbour': nothing to evaluate" in err


def test_eval_generate_in_a_collection_asks_about_its_documents_only(library: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run(capsys, library, "eval", "--generate", "4", "--generator", "template", "--in", "Earth",
                         "--modes", "keyword", "--out", str(tmp_path / "out"))
    assert code == 0, err
    data = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert data["questions"]
    assert {f for q in data["questions"] for f in q["gold"]["docs"]} <= {"volcanoes.pdf", "rivers.pdf"}
    hits = [h["file"] for q in data["questions"] for v in q["retrieval"].values() for h in v["keyword"]["hits"]]
    assert hits and set(hits) <= {"volcanoes.pdf", "rivers.pdf"}
