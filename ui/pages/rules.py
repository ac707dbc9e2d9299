"""Rules: each pack's identity, source, catalogue, tests and coverage (run from here), and which of
its rules fired in production over the last N runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from console import data, fmt, packs

from nesyflow.store import queries as q

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

catalogue_tab, source_tab, tests_tab, analysis_tab = st.tabs(
    ["Catalogue & production", "Source", "Tests", "Analysis"]
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
