import json

import pytest

from rag import eval as ev
from rag.cli.main import main
from rag.errors import BadInput
from rag.eval_data import EvalItem, EvalSet, load_eval_set


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_answers_are_compared_folded_and_whole_word():
    assert ev.contains("The show is “Squid Game”.", '"Squid Game"')
    assert ev.contains("It cost $1.2 billion", "1.2 billion")
    assert not ev.contains("The party went on", "art")
    assert not ev.contains("anything", "")


def test_project_format(tmp_path):
    s = load_eval_set(_write(tmp_path / "q.jsonl", [
        {"question": "Where?", "answers": ["Tianjin"], "evidence": "in Tianjin"},
        {"question": "GDP?", "answerable": False}]))
    assert s.format == "project" and s.articles == []
    assert s.items == [EvalItem("Where?", ("Tianjin",), True, ("in Tianjin",)), EvalItem("GDP?", (), False)]


def test_squad_format_indexes_each_context_once(tmp_path):
    ctx = "The Normans were the people who gave their name to Normandy, a region in France."
    s = load_eval_set(_write(tmp_path / "squad.jsonl", [
        {"context": ctx, "question": "Who gave their name to Normandy?", "answers": ["The Normans"],
         "is_impossible": False},
        {"context": ctx, "question": "Who gave their name to Paris?", "answers": [], "is_impossible": True}]))
    assert s.format == "squad" and len(s.articles) == 1
    assert [i.answerable for i in s.items] == [True, False]
    assert s.items[0].gold_ids == (s.articles[0].id,) and s.items[1].answers == ()


def test_realtimeqa_needs_its_corpus(tmp_path):
    qa = _write(tmp_path / "qa_dev.jsonl", [{"question": "Which show?", "answer": "“Squid Game”",
                                            "evidence": "Squid Game is back.", "gold_doc_ids": ["d1"]}])
    with pytest.raises(BadInput, match="--corpus"):
        load_eval_set(qa)
    _write(tmp_path / "corpus_2022.jsonl", [{"doc_id": "d1", "title": "Show",
                                             "text": "Netflix said the show Squid Game is coming back for a second season."}])
    s = load_eval_set(qa)  # found beside the questions
    assert s.format == "realtimeqa" and [a.id for a in s.articles] == ["d1"]
    assert s.items[0].gold_ids == ("d1",) and s.items[0].answers == ("“Squid Game”",)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_eval_set(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"question": "ok?"}\nnot json\n')
    with pytest.raises(BadInput, match="bad.jsonl:2"):
        load_eval_set(tmp_path / "bad.jsonl")
    (tmp_path / "noq.jsonl").write_text('{"answers": ["x"]}\n')
    with pytest.raises(BadInput, match="question"):
        load_eval_set(tmp_path / "noq.jsonl")


def test_cli_eval_bad_input_is_one_line(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "d"), "eval", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: no such file") and err.count("\n") == 1
    assert main(["eval", str(tmp_path / "missing.jsonl"), "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_run_scores_a_fake_pipeline(fake_pipeline):
    # The fake model always says "The summit was held in Tianjin [1]."
    s = EvalSet("t", "project", [
        EvalItem("Where was the summit held?", ("Tianjin",), True,
                 ("The summit of the Shanghai Cooperation Organisation was held in Tianjin.",), ("summit",)),
        EvalItem("Where was the summit of the Shanghai Cooperation Organisation?", ("Lisbon",), True, (), ("summit",)),
        EvalItem("zyxxy qwop blorf?", (), False)])
    results = ev.run(fake_pipeline, s)
    assert [r.correct for r in results] == [True, False, None]
    assert [r.abstained for r in results] == [False, False, True]
    m = ev.summarize(results)
    assert m["answer_accuracy"] == 0.5 and m["abstained_unanswerable"] == 1.0
    # The first answer is in the passages found; the second question names the Shanghai
    # Cooperation Organisation, so only the article that does is read (not the Lisbon one).
    assert [r.answer_retrieved for r in results] == [True, False, None] and m["answer_in_passages"] == 0.5
    missing = ev.score(EvalItem("Where?", ("Reykjavik",), True), fake_pipeline.ask("Where was the summit held?"), 1.0)
    assert missing.answer_retrieved is False
    assert m["abstained_answerable"] == 0.0 and m["recall_at_k"] == 1.0
    # The second answer, true but not about the SCO summit's place, gave way to the quote,
    # which says all it says: it is not reported as a claim removed.
    assert m["citation_precision"] == 1.0 and m["supported_claims"] == 1.0
    assert [c.status for c in fake_pipeline.ask(s.items[1].question).claims] == ["quoted"]
    assert m["latency_p50_ms"] is not None
    table = ev.table(m, "t")
    assert "answer accuracy (answerable)" in table and "50.0%" in table
    report = ev.report(s, results, fake_pipeline.pipeline.settings)
    assert json.loads(json.dumps(report, default=str))["summary"] == m


def test_run_takes_an_offset(fake_pipeline):
    s = EvalSet("t", "project", [EvalItem(q, ("Tianjin",)) for q in ("a summit?", "b summit?", "c summit?")])
    assert [r.question for r in ev.run(fake_pipeline, s, offset=1)] == ["b summit?", "c summit?"]
    assert [r.question for r in ev.run(fake_pipeline, s, limit=1, offset=1)] == ["b summit?"]


def test_recorded_generator_replays_without_the_model(tmp_path):
    from rag.components.generation import FakeGenerator, Prompt

    path = tmp_path / "gen.jsonl"
    inner = FakeGenerator(("first answer [1].", "second answer [1]."))
    inner.record_logprobs = False
    rec = ev.RecordedGenerator(inner, path)
    assert inner.record_logprobs  # the recording keeps the model's token log-probabilities
    p1, p2 = Prompt("s", "q1"), Prompt("s", "q2")
    assert "".join(rec.stream(p1, 10)) == "first answer [1]."
    assert rec.generate(p2, 10).text == "second answer [1]."
    assert (rec.hits, rec.misses) == (0, 2)
    # A new wrapper reads the file: both replies replay, the model is not called again.
    again = ev.RecordedGenerator(FakeGenerator(("never",)), path)
    replayed = again.stream(p1, 10)
    assert "".join(replayed) == "first answer [1]." and again.generate(p2, 10).text == "second answer [1]."
    assert (again.hits, again.misses) == (2, 0) and again.inner.prompts == []
    assert replayed.stats.prefill_ms == replayed.stats.decode_ms == 0.0  # no model time
    assert again.generate(p1, 11).text == "never"  # another token budget is another prompt


def test_cli_eval_offset_must_not_be_negative(tmp_path, capsys):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "x?"}\n')
    assert main(["--data-dir", str(tmp_path), "eval", str(f), "--offset", "-1"]) == 2
    assert "--offset" in capsys.readouterr().err


def test_yes_no_must_lead_and_a_list_must_name_two():
    yes = EvalItem("Did it rain?", ("No",), kind="yesno")
    assert ev.answered(yes, "No: “It was dry.” [1]") and not ev.answered(yes, "Yes: “No rain fell.” [1]")
    lst = EvalItem("Which regions?", ("South Asia", "Afghanistan", "Middle East"), kind="list")
    assert ev.answered(lst, "South Asia and Afghanistan [1].") and not ev.answered(lst, "Afghanistan [1].")


def test_a_set_split_is_read_and_chosen(tmp_path, fake_pipeline):
    (tmp_path / "s.jsonl").write_text(
        '{"question": "Where was the summit held?", "answers": ["Tianjin"], "type": "factoid", "split": "dev"}\n'
        '{"question": "Where were the floods?", "answers": ["Lisbon"], "type": "factoid", "split": "heldout"}\n')
    s = load_eval_set(tmp_path / "s.jsonl")
    assert [(i.kind, i.split) for i in s.items] == [("factoid", "dev"), ("factoid", "heldout")]
    results = ev.run(fake_pipeline, s, split="dev")
    assert [r.question for r in results] == ["Where was the summit held?"]
    assert ev.summarize(results)["accuracy_factoid"] == 1.0


def test_question_date_asks_each_as_of_its_day_and_undated_ones_as_of_today(fake_pipeline):
    seen = []

    class Recording:
        def __init__(self, inner):
            self.inner = inner

        def ask(self, question, top_k=None, as_of=None):
            seen.append(as_of)
            return self.inner.ask(question, top_k, as_of=as_of)

    s = EvalSet("t", "project", [EvalItem("a summit?", ("Tianjin",), date="2022-07-11"),
                                 EvalItem("b summit?", ("Tianjin",))])
    ev.run(Recording(fake_pipeline), s, as_of="question_date")
    assert seen == ["2022-07-11", None]
    with pytest.raises(BadInput, match="no question of this set carries a date"):
        ev.run(fake_pipeline, EvalSet("t", "project", [EvalItem("b summit?")]), as_of="question_date")
