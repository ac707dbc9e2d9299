"""Mutants of the correct sequences, each breaking one rule at one action: recall per rule.

The generator (``sequences.mutants``) makes, from each correct sequence: a missing authentication,
a second user's lookup, another user's profile or order, an order in a status the action does not
allow, an order that does not exist, a bad cancellation reason, another user's payment method, a
refund to a non-original card, a gift card short of the amount, the same payment method again, a
second change of an order, items not in the order, mismatched item lists, a new item of another
product, an unavailable one or the same one, and the user's consent missing or refused. A mutant is
caught when its target action is denied or sent to review with the rule the mutation breaks.
"""

from collections import Counter

from nesyflow.replay import replay_sequence

from .sequences import EXPECTED_DENIALS, all_mutants


def test_recall_per_rule(retail_pack, domain, train_sequences, capsys):
    skip: dict[str, frozenset[int]] = {}
    for task, index in EXPECTED_DENIALS:
        skip[task] = skip.get(task, frozenset()) | {index}
    mutants = all_mutants(train_sequences, skip)
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    misses: list[str] = []
    for mutant in mutants:
        outcomes = list(
            replay_sequence(retail_pack, domain, mutant.sequence, domain.new_state(None))
        )
        assert all(o.verdict == "allow" for o in outcomes[: mutant.target]), mutant
        target = outcomes[mutant.target]
        rules = {r.rule for r in target.reasons}
        total[mutant.rule] += 1
        if target.verdict in ("deny", "review") and mutant.rule in rules:
            caught[mutant.rule] += 1
            alone[mutant.rule] += rules == {mutant.rule}
        else:
            misses.append(f"task {mutant.task} {mutant.kind}: {target.verdict} {sorted(rules)}")

    catalogue = set(retail_pack.catalogue)
    lines = [f"\nretail mutants: {len(mutants)} over {len(train_sequences)} sequences"]
    lines.append(f"  {'rule':32s} {'caught':>9s} {'recall':>7s} {'only rule':>9s}")
    for rule in sorted(catalogue):
        n = total[rule]
        recall = caught[rule] / n if n else float("nan")
        lines.append(f"  {rule:32s} {caught[rule]:>4d}/{n:<4d} {recall:7.1%} {alone[rule]:>9d}")
    with capsys.disabled():
        print("\n".join(lines))

    assert not misses, "\n".join(misses)
    assert set(total) == catalogue, f"rules without mutants: {sorted(catalogue - set(total))}"
    assert sum(alone.values()) == sum(caught.values()), "a mutant broke more than its one rule"
