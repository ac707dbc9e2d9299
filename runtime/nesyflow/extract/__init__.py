"""Grounded extraction: every value an agent reads comes from a place in the text.

A schema says, per field, where its value comes from (:mod:`.sources`: the run's input, a span of a
kind found by :mod:`.finders`, a lookup in a table the rule pack owns, keyword evidence, a default
under a condition); :mod:`.planner` reads the fields in dependency order, takes a value when the
evidence is decisive, asks a :class:`~.choosers.Chooser` (the model) only to choose among real
candidates, and records for every value where it came from (:mod:`.provenance`). When the sources
disagree on a value the field is *ambiguous*: the planner says so, and the agent's rules send the
step to a person with the competing values — never a silent pick.
"""

from nesyflow.extract.choosers import Chooser, FirstChooser, ModelChooser, PersonChooser
from nesyflow.extract.finders import Occurrence, find
from nesyflow.extract.planner import (
    Extraction,
    ItemText,
    extract_items,
    numbered_lines,
    quoted_receipt,
    read_from,
    split_items,
    unclaimed_receipts,
    without_signature,
)
from nesyflow.extract.provenance import Ambiguity, Candidate, Reading
from nesyflow.extract.sources import (
    Default,
    Derived,
    FromInput,
    Keywords,
    Lookup,
    Neighbours,
    Place,
    Present,
    Source,
    Span,
    When,
    Written,
    describe_sources,
    field_sources,
)
from nesyflow.extract.tables import Table, load_table
from nesyflow.extract.text import Segment, without_mail_headers, without_markup

__all__ = [
    "Ambiguity",
    "Candidate",
    "Chooser",
    "Default",
    "Derived",
    "Extraction",
    "FirstChooser",
    "FromInput",
    "ItemText",
    "Keywords",
    "Lookup",
    "ModelChooser",
    "Neighbours",
    "Occurrence",
    "PersonChooser",
    "Place",
    "Present",
    "Reading",
    "Segment",
    "Source",
    "Span",
    "Table",
    "When",
    "Written",
    "describe_sources",
    "extract_items",
    "field_sources",
    "find",
    "load_table",
    "numbered_lines",
    "quoted_receipt",
    "read_from",
    "split_items",
    "unclaimed_receipts",
    "without_mail_headers",
    "without_markup",
    "without_signature",
]
