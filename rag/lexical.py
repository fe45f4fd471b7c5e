"""BM25 over chunk texts (bm25s): catches names and numbers embeddings blur."""

from __future__ import annotations

_STOPWORDS = "en"


def _tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords=_STOPWORDS, show_progress=False)


class LexicalIndex:
    def __init__(self, texts: list[str]):
        self.size = len(texts)
        self._bm25 = None
        if texts:
            import bm25s

            self._bm25 = bm25s.BM25()
            tokenized = _tokenize(texts)
            self._vocab = set(tokenized.vocab)
            self._bm25.index(tokenized, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) pairs, best first, only positive scores."""
        if self._bm25 is None or k <= 0:
            return []
        import bm25s

        tokens = bm25s.tokenize([query], stopwords=_STOPWORDS, return_ids=False,
                                show_progress=False)
        tokens = [[t for t in tokens[0] if t in self._vocab]]
        if not tokens[0]:
            return []
        k = min(k, self.size)
        ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]
