"""Settings from RAG_* environment variables (rag/config.py): a variable no setting reads
is named in a warning, with the closest setting's name when one is close."""

from __future__ import annotations

import logging

import pytest

from rag import config
from rag.config import Settings, unknown_variables


def test_unknown_variables_are_found_with_the_closest_setting():
    env = {"RAG_TOPK": "5", "RAG_TOP_K": "5", "rag_admin_tokn": "x", "RAG_ZZZ_NOTHING": "1",
           "RAG_PG_BIN": "/x", "PATH": "/bin", "RAGTIME": "1"}
    assert unknown_variables(env) == {"RAG_TOPK": "RAG_TOP_K", "RAG_ZZZ_NOTHING": None,
                                      "rag_admin_tokn": "RAG_ADMIN_TOKEN"}


def test_every_setting_is_known():
    env = {f"RAG_{name.upper()}": "" for name in Settings.model_fields}
    assert len(env) > 10 and unknown_variables(env) == {}


def test_settings_warn_once_about_a_variable_they_ignore(monkeypatch, caplog):
    monkeypatch.setattr(config, "_warned", set())
    monkeypatch.setenv("RAG_ANSWER_MOD", "extract")
    monkeypatch.setenv("RAG_TOP_K", "7")
    with caplog.at_level(logging.WARNING, logger="rag.config"):
        s = Settings()
        Settings()
    assert s.top_k == 7 and s.answer_mode == "generate"  # the misspelt one is not read
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring RAG_ANSWER_MOD: no setting has that name (did you mean RAG_ANSWER_MODE?)"]


@pytest.mark.parametrize("name", ["RAG_CHUNK_SENTENCES", "RAG_CHUNK_OVERLAP", "RAG_CHUNK_MAX_CHARS"])
def test_the_chunk_sizes_are_no_longer_settings(monkeypatch, caplog, name):
    """They are rag/chunking.py's constants now: a user who still sets one is told it is
    ignored and where they went (not pointed at a setting with a close name)."""
    monkeypatch.setattr(config, "_warned", set())
    monkeypatch.setenv(name, "2")
    with caplog.at_level(logging.WARNING, logger="rag.config"):
        Settings()
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring {name}: no setting has that name (the chunk sizes are constants in rag/chunking.py)"]


@pytest.mark.parametrize("name", sorted(config.NOT_SETTINGS))
def test_the_test_helpers_variables_are_not_reported(name):
    assert unknown_variables({name: "x"}) == {}
