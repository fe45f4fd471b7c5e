"""The `rag articles` commands (rag/cli/index_commands.py) and the CLI's one-line errors
with exit code 2 for input that is not valid text (`rag ingest`, `rag ask`)."""

import json

import pytest

from rag.cli.main import main
from rag.config import PACKAGED_EMBEDDER
from rag.documents import make_article
from rag.components.embedding import FakeEmbedder
from rag.index.faiss.versions import load_store

from ..conftest import SUMMIT, WEATHER, make_pipeline


@pytest.fixture
def data_dir(settings, monkeypatch):
    """An index whose manifest names the configured embedder, built with the fake
    one: `articles` commands never need the model itself."""
    monkeypatch.delenv("RAG_DATA_DIR", raising=False)
    p = make_pipeline(settings, embedder=FakeEmbedder(name=PACKAGED_EMBEDDER))
    p.index.ingest([make_article(SUMMIT, title="Summit in Tianjin", id="summit", published="2025-09-01"),
               make_article(WEATHER, title="Lisbon floods", id="weather")])
    return settings.data_dir


def test_articles_list_and_show(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "articles", "list"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["summit\t2025-09-01\tSummit in Tianjin", "weather\t-\tLisbon floods"]
    assert "2 articles" in out.err
    assert main(["--data-dir", str(data_dir), "articles", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["id"] == "summit" and rows[0]["chars"] == len(SUMMIT)
    assert main(["--data-dir", str(data_dir), "articles", "show", "weather"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Lisbon floods\nid: weather\n") and "12 schools" in out
    assert main(["--data-dir", str(data_dir), "articles", "show", "weather", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == WEATHER


def test_articles_errors_are_one_line(data_dir, tmp_path, capsys):
    assert main(["--data-dir", str(data_dir), "articles", "show", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "rag: error: no article with id 'nope'"
    assert main(["--data-dir", str(tmp_path / "empty"), "articles", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no index" in err


def test_articles_delete(data_dir, capsys):
    assert main(["--data-dir", str(data_dir), "articles", "delete", "weather", "nope"]) == 2
    out = capsys.readouterr()
    assert "no article with id 'nope'" in out.err and "1 deleted" in out.out
    assert set(load_store(data_dir).articles) == {"summit"}


def test_ingest_with_a_lone_surrogate_is_one_line_and_exit_2(data_dir, tmp_path, capsys, monkeypatch):
    # Issue #12: the CLI printed a traceback from the JSON writer and exited 1.
    monkeypatch.setattr("rag.assemble.load_embedder", lambda *a, **kw: FakeEmbedder(name=PACKAGED_EMBEDDER))
    monkeypatch.setattr("rag.assemble.load_verifier", lambda s: None)
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "bad", "title": "x\\ud800", "text": "A perfectly ordinary article about the weather."}')
    assert main(["--data-dir", str(data_dir), "ingest", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "surrogate" in err[0] and "Traceback" not in err[0]
    assert "bad" not in load_store(data_dir).articles


def test_rag_ask_with_a_question_that_is_not_valid_text_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    # A command-line argument that is not UTF-8 reaches Python as lone surrogates.
    from rag.cli.main import main as cli
    from rag.components.generation import FakeGenerator
    from rag.components.fake_verifier import FakeVerifier
    from rag.components.embedding import FakeEmbedder

    monkeypatch.setattr("rag.assemble.load_embedder", lambda name, **kw: FakeEmbedder())
    monkeypatch.setattr("rag.assemble.load_generator", lambda s, tuning=None: FakeGenerator(("ok",)))
    monkeypatch.setattr("rag.assemble.load_verifier", lambda s: FakeVerifier())
    assert cli(["--data-dir", str(tmp_path / "d"), "ask", "Where \udcff was it?"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: question holds a lone UTF-16 surrogate") and err.count("\n") == 1
