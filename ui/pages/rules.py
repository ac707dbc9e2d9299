"""Rules: each pack's identity, source, catalogue, tests and coverage (run from here), and which of
its rules fired in production over the last N runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from console import data, fmt, history, packs, session

from nesyflow.store import queries as q

session.gate()  # with accounts, nothing shows before sign-in
store = data.store()

st.title("Rules")
found = packs.discover(data.rules_dirs())
if not found:
    st.info("No rule packs found. Set NESYFLOW_RULES to the folder holding them (default: rules/).")
    st.stop()

name = st.selectbox("Pack", list(found), key="pack")
pack, problem = packs.load(found[name])
if pack is None:
    st.error(f"The pack in `{found[name]}` does not load:\n\n{problem}")
    st.stop()

st.markdown(
    f"### {pack.name} {fmt.badge('v' + pack.version, 'blue')}  \n"
    f"{pack.description}  \n"
    f"Hash `{pack.identity.hash[:16]}…` · {len(pack.catalogue)} rules · "
    f"{len(pack.sources)} files · `{found[name]}`"
)

last_runs = st.select_slider(
    "Production window (newest runs)", [50, 100, 500, 1000, 5000], value=500, key="last-runs"
)
fired = {r.rule: r for r in q.rule_firing_recent(store, last_runs=last_runs, pack=pack.name)}

catalogue_tab, source_tab, tests_tab, analysis_tab, whatif_tab, proposals_tab = st.tabs(
    ["Catalogue & production", "Source", "Tests", "Analysis", "What-if", "Proposals"]
)
with catalogue_tab:
    frame = pd.DataFrame(
        [
            {
                "rule": e.rule,
                "severity": e.severity,
                "message": e.message,
                "fired": fired[e.rule].count if e.rule in fired else 0,
                "last fired": fired[e.rule].last_at.replace(tzinfo=None)
                if e.rule in fired and fired[e.rule].last_at
                else None,
                "where": ", ".join(f"{f}:{n}" for f, n in packs.rule_lines(pack, e.rule)),
            }
            for e in pack.catalogue.values()
        ]
    ).sort_values(["fired", "rule"], ascending=[False, True])
    top = int(frame["fired"].max()) if len(frame) else 0
    st.caption(f"Findings in the newest {last_runs:,} runs, most first")
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "fired": st.column_config.ProgressColumn(
                "fired", format="%d", min_value=0, max_value=max(1, top)
            ),
            "last fired": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "message": st.column_config.TextColumn(width="large"),
        },
    )
    silent = [r for r in pack.catalogue if r not in fired]
    if silent:
        st.caption("Did not fire in this window: " + ", ".join(f"`{r}`" for r in silent))

with source_tab:
    for file, lines in sorted(pack.sources.items()):
        with st.expander(
            f"{packs.relative(pack, file)} · {len(lines)} lines", expanded=len(pack.sources) == 1
        ):
            st.code("\n".join(lines), language="prolog", line_numbers=True)

with tests_tab:
    key = f"tests:{pack.identity.hash}"
    if st.button(
        "Run the pack's tests", icon=":material/play_arrow:", key="run-tests", type="primary"
    ):
        from nesyflow.logic.testing import run_pack_tests

        with st.spinner("Running the tests…"):
            st.session_state[key] = run_pack_tests(pack).to_json()
    report = st.session_state.get(key)
    if report is None:
        st.caption("Runs every case in the pack's tests/*.yaml and reports catalogue coverage.")
    else:
        cols = st.columns(3)
        cols[0].metric("Passed", report["passed"], border=True)
        cols[1].metric("Failed", report["failed"], border=True)
        cols[2].metric("Coverage", f"{report['coverage']:.0f}%", border=True)
        if report["uncovered"]:
            st.warning("No test fires: " + ", ".join(f"`{r}`" for r in report["uncovered"]))
        cases = pd.DataFrame(
            [
                {
                    "ok": "✅" if c["passed"] else "❌",
                    "case": c["name"],
                    "where": c["location"],
                    "ms": c["duration_ms"],
                    "differences": "; ".join(c["diffs"]) or (c["error"] or ""),
                }
                for c in report["cases"]
            ]
        )
        st.dataframe(cases, hide_index=True)

with analysis_tab:
    key = f"deep:{pack.identity.hash}"
    if st.button(
        "Analyse the rules", icon=":material/troubleshoot:", key="run-deep", type="primary"
    ):
        from nesyflow.logic.deep import analyse_pack

        with st.spinner("Varying the test cases and checking every variant…"):
            st.session_state[key] = analyse_pack(pack).to_json()
    deep = st.session_state.get(key)
    if deep is None:
        st.caption(
            "Finds rules that never fire, always fire or fire together, reviews a violation "
            "always pre-empts, and derived keys with two values (`nesyflow lint --deep`)."
        )
    else:
        st.caption(
            f"{deep['inputs']:,} inputs varied from {deep['cases']} test cases in "
            f"{deep['seconds']:.1f} s — {deep['method']}"
        )
        if not deep["problems"]:
            st.success("Nothing found.")
        else:
            st.dataframe(pd.DataFrame(deep["problems"]), hide_index=True)
        for note in deep["incomplete"]:
            st.warning(f"Not complete: {note}")

with whatif_tab:
    production = q.pack_identities(store, pack.name)
    differs = bool(production) and all(p.hash != pack.identity.hash for p in production)
    if production:
        st.caption(
            "In production (newest checked steps): "
            + ", ".join(f"`{p.name}@{p.version}#{p.hash[:12]}` ×{p.steps}" for p in production)
        )
    else:
        st.caption("No stored step was checked by a pack of this name.")
    if differs:
        st.warning(
            f"This folder (`#{pack.identity.hash[:12]}`) is not the version in production: "
            "replay history with it to see what would change before it ships.",
            icon=":material/difference:",
        )
    key = f"whatif:{pack.identity.hash}"
    if production and st.button(
        "Replay history with this folder",
        icon=":material/replay:",
        key="run-whatif",
        type="primary" if differs else "secondary",
    ):
        from nesyflow.insight import whatif

        with st.spinner("Re-checking every stored step of this pack…"):
            st.session_state[key] = whatif(store, pack).to_json()
    impact = st.session_state.get(key)
    if impact is not None:
        history.show_impact(impact)

with proposals_tab:
    key = f"proposals:{pack.identity.hash}"
    st.caption(
        "Violations people approved at least 5 times for the same kind of facts, as an exception "
        "rule (a diff with tests from those decisions). Nothing here changes the pack: accept one "
        "by applying and committing its diff."
    )
    if st.button("Look for proposals", icon=":material/lightbulb:", key="run-proposals"):
        from nesyflow.insight import propose

        with st.spinner("Reading decisions, testing each proposal on a copy of the pack…"):
            st.session_state[key] = [p.to_json() for p in propose(store, pack)]
    found = st.session_state.get(key)
    if found is not None and not found:
        st.success("No violation was approved often enough for the same kind of facts.")
    for proposal in found or []:
        with st.container(border=True):
            st.markdown(
                f"#### `{proposal['rule']}` at {proposal['where']}  \n"
                f"Approved in **{proposal['approvals']}** reviews by "
                f"{', '.join(proposal['reviewers'])}; when "
                + " and ".join(f"`{c}`" for c in proposal["conditions"])
            )
            tests = proposal["tests"]
            if tests["failed"]:
                st.error(
                    f"On a copy of the pack: {tests['failed']} tests fail, {tests['passed']} pass"
                )
                for failure in tests["failures"][:5]:
                    st.markdown(f"- {failure}")
            else:
                st.success(f"On a copy of the pack: all {tests['passed']} tests pass")
            if proposal["conflicts"]:
                st.warning(f"{len(proposal['conflicts'])} rejected reviews fall inside it.")
            if proposal["impact"] is not None:
                history.show_impact(proposal["impact"])
            st.code(proposal["diff"], language="diff")
            st.download_button(
                "Download the diff",
                proposal["diff"],
                file_name=f"exception_{proposal['rule']}.diff",
                key=f"dl-{proposal['rule']}-{proposal['where']}",
            )
