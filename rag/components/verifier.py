"""The verifier: a cross-encoder the project trains itself (models/verifier/, rag/train/).

It reads a question or a claim together with a passage, which word overlap cannot:
- `answers(question, sentences)`: probability that each sentence answers the question
  (answer-sentence selection; used to re-rank evidence and decide answerability);
- `support(pairs)`: for (claim, evidence) pairs, probabilities of entailed / neutral /
  contradicted (used to check each answer sentence against its quote);
- `spans(question, sentences)`: the short answer in each sentence ("Vladimir Putin"), with
  its exact offsets (SQuAD's answer spans taught it).

One MiniLM-L6 encoder (from the packaged all-MiniLM-L6-v2) with three small heads. The
committed weights leave out the word-embedding table, which training kept frozen: it is
read from the packaged embedder, so the repo carries 22 MB instead of 45.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from rag.errors import ModelUnavailable
from rag.components.runtime.model_files import embedder_path
from rag.components.runtime.batching import length_batches
from rag.components.runtime.model_thread import ENCODERS
from rag.components.runtime.quantization import quantize_encoder
from rag.components.runtime.span_reading import Span, best_span
from rag.components.verifier_cache import NOT_READ, PairCache
from rag.components.verifier_precision import DTYPES, PAD_SHAPES, PAD_TOKENS, padded_rows, resolve

ENTAILED, NEUTRAL, CONTRADICTED = 0, 1, 2
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
FROZEN = "embeddings.word_embeddings.weight"  # not saved: taken from the base model



def default_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "models" / "verifier"


class Verifier(Protocol):
    """What the answering code reads. Every verifier offers all of it: its calibrated
    thresholds (``Calibration()``'s defaults for one without any) and whether its span
    head has a null option (then every Span read carries has_answer; v4 on)."""

    @property
    def calibration(self) -> "Calibration": ...

    @property
    def span_null(self) -> bool: ...

    def answers(self, question: str, sentences: Sequence[str]) -> np.ndarray: ...

    def read(self, question: str, texts: Sequence[str]) -> tuple[np.ndarray, list["Span | None"]]: ...

    def support(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...

    def spans(self, question: str, sentences: Sequence[str]) -> list["Span | None"]: ...


@dataclass(frozen=True)
class Calibration:
    """Decision thresholds, calibrated on dev splits (see models/verifier/README.md)."""
    answerable: float = 0.5  # best sentence's answer probability below this: abstain
    supported: float = 0.5  # entailment probability a claim needs
    contradicted: float = 0.5  # contradiction probability that refutes a claim (or says "No")
    span: float = 0.3  # a short answer read with less confidence is not shown
    # Sentences are ranked by their answer logit plus this times their passage's (0: alone)
    passage_weight: float = 0.0
    # A null-option span head (v4 on) reads each passage: the question is answerable when
    # a passage's has_answer reaches this, or a sentence's answer probability reaches
    # `answerable` (1.0: passages not consulted).
    has_answer: float = 1.0
    # A yes/no question is settled when one of its best sentences is entailed or contradicted
    # at this or more (rag/answering/yesno.py; calibrated on SufficientFacts dev).
    settled: float = 0.4
    # Topic present, detail absent (rag/answering/detail.py): the best sentence's answer
    # logit plus has_weight times its passage's has_answer logit must reach `joint`
    # (has_weight 0: not read so); a count's unit must be this close to what is counted
    # (cosine similarity; 0: not checked).
    has_weight: float = 0.0
    joint: float = 0.0
    unit: float = 0.0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_model(base_dir: str):
    """The encoder with its two heads, as trained (torch imported only here)."""
    import torch
    from torch import nn
    from transformers import AutoModel

    class CrossEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base_dir)
            hidden = self.encoder.config.hidden_size
            self.dropout = nn.Dropout(0.1)
            self.answer_head = nn.Linear(hidden, 1)
            self.support_head = nn.Linear(hidden, 3)
            self.span_head = nn.Linear(hidden, 2)  # start, end of the short answer

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = self.dropout((h * m).sum(1) / m.sum(1).clamp(min=1.0))
            span = self.span_head(self.dropout(h))
            return self.answer_head(pooled).squeeze(-1), self.support_head(pooled), span

    torch.manual_seed(0)
    return CrossEncoder()


class CrossEncoderVerifier:
    """The trained verifier on CPU, loaded lazily; thread-safe, batched."""

    def __init__(self, model_dir: Path | None = None, base_dir: str | None = None,
                 threads: int = 0, dtype: str = "auto", batch_size: int = 32,
                 pad_shapes: bool | None = None):
        if dtype not in DTYPES:
            raise ValueError(f"verifier dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self.model_dir = Path(model_dir) if model_dir else default_dir()
        self._base_dir = base_dir
        self.threads = threads
        self.dtype = dtype
        self._pad_shapes = pad_shapes
        self.batch_size = batch_size
        self._model = None
        self._tok = None
        self._lock = threading.Lock()
        self._config: dict | None = None
        self._autocast = None  # a dtype to autocast to (a model still in training is fp32)
        self._has_spans = True
        self._cache: PairCache | None = PairCache()  # (rag/components/verifier_cache.py)

    @classmethod
    def in_memory(cls, model, tokenizer, max_length: int, autocast=None,
                  batch_size: int = 64, span_null: bool = False) -> "CrossEncoderVerifier":
        """A model in memory (one being trained) behind the same interface."""
        v = cls(batch_size=batch_size)
        v._model, v._tok, v._autocast = model, tokenizer, autocast
        v._pad_shapes, v._cache = False, None  # (its weights change: nothing kept)
        v._config = {"max_length": max_length, "span_null": span_null}
        return v

    @property
    def config(self) -> dict:
        if self._config is None:
            path = self.model_dir / CONFIG
            if not path.is_file():
                raise ModelUnavailable(f"no verifier in {self.model_dir}: train one with "
                                       "`rag train verifier --data ../shared/data/training`")
            self._config = json.loads(path.read_text())
        return self._config

    @property
    def max_length(self) -> int:
        return int(self.config.get("max_length", 128))

    @property
    def span_null(self) -> bool:
        """Whether the span head was trained with a null option ([CLS] = no answer; v4 on):
        then every Span carries has_answer."""
        return bool(self.config.get("span_null", False))

    @property
    def pad_shapes(self) -> bool:
        """Whether inputs are padded to fixed shapes: as asked, else bf16 per PAD_SHAPES."""
        if self._pad_shapes is None:
            self._pad_shapes = PAD_SHAPES and self.resolved_dtype == "bfloat16"
        return self._pad_shapes

    @property
    def resolved_dtype(self) -> str:
        return resolve(self.dtype)

    @property
    def calibration(self) -> Calibration:
        cal = self.config.get("calibration", {})
        return Calibration(**{k: float(v) for k, v in cal.items() if k in Calibration.__dataclass_fields__})

    def load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            import torch
            from safetensors.torch import load_file
            from transformers import AutoTokenizer


            base = self._base_dir or embedder_path(self.config.get("base", "packaged:all-MiniLM-L6-v2"))
            if self.threads:
                torch.set_num_threads(self.threads)
            model = build_model(base)
            state = {k: v.float() for k, v in load_file(str(self.model_dir / WEIGHTS)).items()}
            missing, unexpected = model.load_state_dict(state, strict=False)
            # Weights trained before the span head read no short answers, and still verify.
            self._has_spans = not any(k.startswith("span_head.") for k in missing)
            missing = [k for k in missing if not k.startswith("span_head.")]
            if unexpected or [k for k in missing if not k.endswith(FROZEN)]:
                raise RuntimeError(f"verifier weights do not fit the model: missing {missing}, "
                                   f"unexpected {unexpected}")
            model.eval()
            dtype = self.resolved_dtype
            if dtype == "bfloat16":
                model = model.to(torch.bfloat16)
            elif dtype == "int8":  # the encoder's Linear layers; the three small heads stay fp32
                model.encoder = quantize_encoder(model.encoder)
            self._tok = AutoTokenizer.from_pretrained(base)
            self._model = model
            return model

    def _run(self, a: Sequence[str], b: Sequence[str],
             want_spans: bool = False) -> tuple[np.ndarray, np.ndarray, list[Span | None]]:
        # On the encoders' thread, not the caller's (runtime/model_thread.py: memory per thread).
        return ENCODERS.run(self._score, a, b, want_spans)

    def forget(self) -> None:
        """Drop the readings kept (a benchmark's fresh question)."""
        if self._cache is not None:
            self._cache.clear()

    def _score(self, a: Sequence[str], b: Sequence[str],
               want_spans: bool = False) -> tuple[np.ndarray, np.ndarray, list[Span | None]]:
        """The three heads' readings of each pair: those kept (PairCache), and the others
        read, each distinct pair once."""
        cache = self._cache
        if cache is None:
            return self._read_pairs(a, b, want_spans)
        keys = list(zip(a, b))
        new = list(dict.fromkeys(k for k in keys if cache.get(k, want_spans) is None))
        ans, sup, spans = self._read_pairs([k[0] for k in new], [k[1] for k in new], want_spans) if new else ((),) * 3
        got = {k: cache.get(k, want_spans) for k in dict.fromkeys(keys)}
        for i, k in enumerate(new):
            got[k] = (float(ans[i]), sup[i], spans[i])
            cache.put(k, float(ans[i]), sup[i], spans[i] if want_spans else NOT_READ)
        rows = [got[k] for k in keys]
        return (np.array([r[0] for r in rows], dtype=np.float32), np.array([r[1] for r in rows], dtype=np.float32).reshape(-1, 3),
                [r[2] if want_spans else None for r in rows])

    def _read_pairs(self, a: Sequence[str], b: Sequence[str],
                    want_spans: bool = False) -> tuple[np.ndarray, np.ndarray, list[Span | None]]:
        import torch

        model = self.load()
        if not a:
            return np.zeros(0), np.zeros((0, 3)), []
        # Batches of inputs of like length (runtime/batching.py): sentences are not padded
        # to a passage's length.
        lengths = [len(ids) for ids in self._tok(list(a), list(b), truncation="longest_first",
                                                 max_length=self.max_length)["input_ids"]]
        batches = length_batches(lengths, self.batch_size, self.pad_shapes, PAD_TOKENS if self.pad_shapes else 0)
        ans = np.zeros(len(a), dtype=np.float32)
        sup = np.zeros((len(a), 3), dtype=np.float32)
        spans: list[Span | None] = [None] * len(a)
        with torch.inference_mode(), torch.autocast("cpu", dtype=self._autocast,
                                                     enabled=self._autocast is not None):
            for idx in batches:
                enc = self._tok([a[i] for i in idx], [b[i] for i in idx], truncation="longest_first",
                                max_length=self.max_length, padding=True, return_tensors="pt",
                                return_offsets_mapping=want_spans,
                                pad_to_multiple_of=PAD_TOKENS if self.pad_shapes else None)
                inputs = [enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]]
                if self.pad_shapes:
                    inputs = [padded_rows(t) for t in inputs]
                logit, logits3, span_logits = (t[:len(idx)] for t in model(*inputs))
                ans[idx] = torch.sigmoid(logit.float()).numpy()
                sup[idx] = torch.softmax(logits3.float(), -1).numpy()
                if want_spans and self._has_spans:
                    for row, i in enumerate(idx):
                        spans[i] = best_span(enc, row, span_logits[row].float(), b[i], null=self.span_null)
        return ans, sup, spans

    def answers(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        return self._run([question] * len(sentences), list(sentences))[0]

    def support(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return self._run([c for c, _ in pairs], [e for _, e in pairs])[1]

    def spans(self, question: str, sentences: Sequence[str]) -> list[Span | None]:
        return self.read(question, sentences)[1]

    def read(self, question: str, sentences: Sequence[str]) -> tuple[np.ndarray, list[Span | None]]:
        """answers() and spans() in one pass. The texts may be sentences or passages; with a
        null-option span head (`span_null`) each Span's has_answer says whether the text
        answers the question at all (passage-level answerability)."""
        ans, _, spans = self._run([question] * len(sentences), list(sentences), want_spans=True)
        return ans, spans
