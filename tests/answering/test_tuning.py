"""rag/answering/tuning.py: the internal knobs, overridden only by `rag eval --tune`."""

import pytest

from rag.answering.tuning import AnswerSettings, Tuning
from rag.config import Settings
from rag.errors import BadInput


def test_tune_overrides_by_name_with_the_field_type():
    t = Tuning().tuned(["rrf_k=30", "min_relevance=0.1", "verifier_answerable=0", "verifier_span=none"])
    assert (t.rrf_k, t.min_relevance, t.verifier_answerable, t.verifier_span) == (30, 0.1, 0.0, None)
    assert isinstance(t.rrf_k, int) and Tuning().rrf_k == 60  # the defaults are untouched


@pytest.mark.parametrize("bad, says", [("top_k=3", "expected NAME=VALUE"), ("rrf_k", "expected NAME=VALUE"),
                                       ("rrf_k=3.5", "not a number"), ("min_relevance=high", "not a number")])
def test_tune_refuses_unknown_names_and_bad_values(bad, says):
    with pytest.raises(BadInput, match=says):
        Tuning().tuned([bad])


def test_answer_settings_take_the_users_choices_and_the_tuning():
    s = Settings(top_k=7, answer_mode="extract", max_question_chars=50)
    a = AnswerSettings.of(s, Tuning(rerank_candidates=3))
    assert (a.top_k, a.answer_mode, a.max_question_chars, a.rerank_candidates, a.rrf_k) == (7, "extract", 50, 3, 60)


def test_rag_eval_refuses_a_bad_tune_in_one_line(tmp_path, capsys):
    from rag.cli.main import main

    assert main(["--data-dir", str(tmp_path), "eval", "evals/seed_qa.jsonl", "--tune", "nope=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: --tune 'nope=1'") and err.count("\n") == 1
