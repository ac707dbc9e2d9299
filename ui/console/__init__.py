"""The console's helpers: store access (``data``), display formats (``fmt``), forms generated from
pydantic schemas (``forms``), deciding reviews (``decisions``), rule packs (``packs``) and workflow
graphs (``graph``). Pages stay thin: they lay out what these return; SQL lives only in
:mod:`nesyflow.store.queries`."""
