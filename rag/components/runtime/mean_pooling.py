"""A sentence-transformers model of the common shape (Transformer -> mean Pooling ->
Normalize), run on transformers alone.

Why: importing sentence_transformers costs ~1.5 s of a server's start (it imports
scikit-learn and scipy for similarity helpers we never call), a quarter of the time
to ready. The computation is the same as sentence-transformers' for these models:
strip, tokenize with truncation to ``max_seq_length``, mean of the token vectors
under the attention mask (vectors match to cosine > 0.99999, tests/integration).
Any other model shape is loaded by sentence-transformers itself (rag/components/embedding.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

_SHAPE = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
          "sentence_transformers.models.Normalize"]


def supports(path: str | Path) -> bool:
    """Whether ``path`` is a local sentence-transformers folder of the shape above."""
    root = Path(path)
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((root / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return False
    if [m.get("type") for m in modules] != _SHAPE or modules[0].get("path", "") != "":
        return False
    modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
    return modes.get("pooling_mode_mean_tokens") is True and not any(
        v for k, v in modes.items() if k != "pooling_mode_mean_tokens")


class MeanPoolingEncoder:
    """Offers the part of SentenceTransformer's interface rag/components/embedding.py uses."""

    def __init__(self, path: str | Path):
        import torch
        from transformers import AutoModel, AutoTokenizer

        root = Path(path)
        config = json.loads((root / "sentence_bert_config.json").read_text(encoding="utf-8")) \
            if (root / "sentence_bert_config.json").exists() else {}
        self.max_seq_length = int(config.get("max_seq_length") or 512)
        self.lower = bool(config.get("do_lower_case", False))
        self.tokenizer = AutoTokenizer.from_pretrained(str(root), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(root), local_files_only=True).eval()
        self._torch = torch

    # -- the SentenceTransformer surface used by rag/components/embedding.py --
    def get_sentence_embedding_dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def to(self, dtype) -> "MeanPoolingEncoder":
        self.model = self.model.to(dtype)
        return self

    def encode(self, texts: Sequence[str], batch_size: int = 32, convert_to_tensor: bool = False,
               normalize_embeddings: bool = False, show_progress_bar: bool = False):
        """Mean-pooled vectors (n, dim) in the model's dtype, in the order of ``texts``.
        Texts are batched longest first, as sentence-transformers does, to pad little."""
        torch = self._torch
        texts = [str(t).strip().lower() if self.lower else str(t).strip() for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list = [None] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation="longest_first",
                                     max_length=self.max_seq_length, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if normalize_embeddings:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                for j, i in enumerate(idx):
                    out[i] = pooled[j]
        if not out:
            return torch.zeros((0, self.get_sentence_embedding_dimension()))
        stacked = torch.stack(out)
        return stacked if convert_to_tensor else stacked.float().numpy()
