"""Every train task's correct action sequence replays as allowed (no false blocks).

One recorded action is refused by the policy and by the tool alike (see
``sequences.EXPECTED_DENIALS``): task 105 pays a 21.10 price difference with a gift card holding
17.00. Some correct actions are reads that find nothing (a mistyped email, an item id passed as a
product id, an order id without its '#W'): the rules allow them and the tool answers "not found",
as in the recorded conversations.
"""

from collections import Counter

from nesyflow.replay import replay_sequence

from .sequences import EXPECTED_DENIALS, WRITES


def test_every_correct_action_is_allowed(retail_pack, domain, train_sequences, capsys):
    checked = blocked = 0
    false_blocks: list[str] = []
    not_found_reads: Counter[str] = Counter()
    for task, seq in train_sequences:
        for outcome in replay_sequence(retail_pack, domain, seq, domain.new_state(None)):
            checked += 1
            expected = EXPECTED_DENIALS.get((task, outcome.index))
            rules = {r.rule for r in outcome.reasons}
            if expected is not None:
                assert outcome.verdict == "deny" and rules == {expected}, (task, outcome)
                blocked += 1
                continue
            if outcome.verdict != "allow":
                false_blocks.append(f"task {task} action {outcome.index} {outcome.name}: {rules}")
            if outcome.error is not None:
                # only reads may fail, and only with "not found"
                assert outcome.name not in WRITES, (task, outcome)
                assert "not found" in outcome.error, (task, outcome)
                not_found_reads[outcome.name] += 1
    with capsys.disabled():
        print(
            f"\nretail train tasks: {len(train_sequences)} sequences, {checked} actions checked, "
            f"{len(false_blocks)} false blocks, {blocked} expected denial(s) "
            f"({', '.join(f'task {t} #{i}: {r}' for (t, i), r in EXPECTED_DENIALS.items())}), "
            f"reads answered 'not found': {dict(not_found_reads)}"
        )
    assert not false_blocks, "\n".join(false_blocks)


def test_the_expected_denial_is_refused_by_the_tool_too(domain, train_sequences):
    from nesyflow.replay import ToolError

    seqs = dict(train_sequences)
    for (task, index), _rule in EXPECTED_DENIALS.items():
        call = seqs[task].actions[index]
        db = domain.new_state(None)
        try:
            domain.tools[call.name].run(db, call.arguments)
        except ToolError as exc:
            assert "gift card" in exc.message
        else:
            raise AssertionError(f"the tool accepted task {task} action {index}")


def test_sequences_without_a_lookup_get_the_scenarios_caller(train_sequences):
    from .sequences import LOOKUPS

    for task, seq in train_sequences:
        if not any(c.name in LOOKUPS for c in seq.actions) and any(
            c.name in WRITES for c in seq.actions
        ):
            assert seq.authenticated_user, task
