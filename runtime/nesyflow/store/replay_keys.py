"""What a replay of history needs from a stored check, kept in two short columns of its step.

A what-if re-checks what the rules were given (the value and its context) with a new pack and
compares each new result with that pack's old one: its version, verdict and the rule instances it
found. Decoding every step's whole ``check`` JSON (reasons, explanations, timings) for that was most
of a replay's time, and no two checks' JSON is the same text (timings differ). So each step is
written with:

* ``input_hash``: sha256 of the canonical JSON of ``[subject, context]`` (``""``: the check kept
  no subject, so it cannot be replayed);
* ``outcomes``: canonical JSON, per pack name, of ``[version, verdict, [[rule, detail], …]]``
  (the instances sorted, repeats kept).

Steps that repeat an input and an outcome then share one decode and one comparison. SQL NULL in
both means the row was written by something that did not compute them (a hand-written row;
migration v11 fills in those an older nesyflow wrote): readers fall back to the ``check`` JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["Outcome", "input_hash", "outcomes", "parse_outcomes", "replay_columns"]

# (version, verdict, the (rule, detail) instances found, sorted, with repeats)
Outcome = tuple[str, str, tuple[tuple[str, str], ...]]

_FINDING_KINDS = ("violations", "reviews", "denials")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_hash(subject: Any, context: Any) -> str:
    """The key of what the rules were given: equal for equal (value, context) pairs."""
    return hashlib.sha256(_canonical([subject, context]).encode()).hexdigest()


def _outcome(result: dict[str, Any]) -> Outcome:
    instances = sorted(
        (str(f["rule"]), str(f.get("detail", "")))
        for kind in _FINDING_KINDS
        for f in result.get(kind) or ()
        if isinstance(f, dict) and f.get("rule")
    )
    version = (result.get("pack") or {}).get("version", "?")
    return str(version), str(result.get("verdict")), tuple(instances)


def outcomes(check: Any) -> dict[str, Outcome]:
    """Each pack's outcome in a stored check, by pack name (the first result of a name counts)."""
    out: dict[str, Outcome] = {}
    results = check.get("results") if isinstance(check, dict) else None
    for result in results or ():
        pack = result.get("pack") if isinstance(result, dict) else None
        if isinstance(pack, dict) and "name" in pack:
            out.setdefault(str(pack["name"]), _outcome(result))
    return out


def replay_columns(check: Any) -> dict[str, str]:
    """The ``input_hash`` and ``outcomes`` column values of a step whose check is ``check``
    (``""`` and ``{}`` for a step no rule checked)."""
    subject = check.get("subject") if isinstance(check, dict) else None
    context = check.get("context") if isinstance(check, dict) else None
    return {
        "input_hash": "" if subject is None else input_hash(subject, context),
        "outcomes": _canonical(
            {
                name: [v, s, [list(i) for i in found]]
                for name, (v, s, found) in outcomes(check).items()
            }
        ),
    }


def parse_outcomes(text: str) -> dict[str, Outcome]:
    """The ``outcomes`` column read back (the inverse of :func:`replay_columns`' encoding)."""
    return {
        name: (str(v), str(s), tuple((str(r), str(d)) for r, d in found))
        for name, (v, s, found) in json.loads(text).items()
    }
