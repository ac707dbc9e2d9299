"""Workflows: each workflow's graph, nodes coloured by how often they failed or went to review over
recent runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from console import data, graph, session

from nesyflow.store import queries as q

session.gate()  # with accounts, nothing shows before sign-in
store = data.store()

st.title("Workflows")
files = data.workflow_files(data.store_url())
if not files:
    st.info("No workflow has runs yet, and none was found under agents/.")
    st.stop()

cols = st.columns([3, 2])
name = cols[0].selectbox("Workflow", list(files), key="workflow")
last_runs = cols[1].select_slider("Recent runs", [50, 200, 1000], value=200, key="wf-runs")
stats = q.node_stats(store, name, last_runs=last_runs)
by_node = {s.node: s for s in stats}
flow = data.load_workflow_file(files.get(name))

if flow is not None:
    st.caption(f"{flow.description or ''} · `{files[name]}`")
    st.graphviz_chart(graph.workflow_dot(flow, by_node), width="stretch")
else:
    if files.get(name):
        st.error(f"`{files[name]}` does not load: `nesyflow validate {files[name]}` says why.")
    if stats:
        if not files.get(name):
            st.caption(
                "The workflow file is not known here (built in Python, or moved): nodes are shown "
                "in the order runs reach them."
            )
        st.graphviz_chart(graph.observed_dot(stats), width="stretch")
    elif not files.get(name):
        st.info("No runs of this workflow yet.")

if flow is not None:
    from nesyflow.engine.governance import workflow_classes
    from nesyflow.graph.model import LlmNode
    from nesyflow.llm.providers import is_remote
    from nesyflow.llm.selection import resolve_model

    st.subheader("Data classification")
    rows = workflow_classes(flow).rows()
    if rows:
        st.dataframe(
            pd.DataFrame(rows, columns=["where", "field", "sensitive", "must be kept"]),
            hide_index=True,
        )
    else:
        st.caption("No field of this workflow is classified sensitive or must-keep.")
    remote = [
        n.id
        for n in flow.nodes.values()
        if isinstance(n, LlmNode) and is_remote(resolve_model(n.model, flow.model), n.remote)
    ]
    if remote:
        st.caption(
            "Remote models (sensitive values replaced by placeholders before the prompt): "
            + ", ".join(f"`{n}`" for n in remote)
        )

st.markdown(
    "Colour: :green-background[few problems] · :orange-background[some reviews] · "
    ":red-background[frequent failures] — over the newest runs."
)
if stats:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "node": s.node,
                    "checked steps": s.steps,
                    "fail rate": s.failure_rate,
                    "review rate": s.review_rate,
                    "reviews opened": s.reviews,
                    **{v: n for v, n in sorted(s.verdicts.items())},
                }
                for s in stats
            ]
        ),
        hide_index=True,
        column_config={
            "fail rate": st.column_config.NumberColumn(format="percent"),
            "review rate": st.column_config.NumberColumn(format="percent"),
        },
    )
