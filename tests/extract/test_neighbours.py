"""Nearest labelled examples with the real offline embedding model and faiss: leave-one-out, a
vote restricted to the options, and the planner settling (or not) what the keywords leave open."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel

from nesyflow.extract import (
    Keywords,
    Neighbours,
    PersonChooser,
    extract_items,
    load_table,
    split_items,
)
from nesyflow.extract.neighbours import NeighbourIndex

DATA = Path(__file__).resolve().parents[2] / "rules" / "expense" / "data"
EXAMPLES = [
    ("a", "Taxi from the airport to the hotel, receipt attached.", "ground_transport"),
    ("b", "Uber from the hotel to the client office.", "ground_transport"),
    ("c", "Two nights at the Hilton for the summit.", "lodging"),
    ("d", "Hotel room in Denver, one night.", "lodging"),
    ("e", "Lunch with the team during the audit.", "meals"),
]


@pytest.fixture(scope="module")
def index():
    return NeighbourIndex(EXAMPLES)


def test_a_query_never_returns_its_own_example(index):
    near = index.query(EXAMPLES[0][1], k=5)
    assert [n.example for n in near if n.example == "a"] == []
    assert len(near) == 4 and near[0].similarity >= near[-1].similarity


def test_the_vote_is_restricted_to_the_options(index):
    best, near = index.vote(
        "Cab ride from the hotel to the airport.", ["ground_transport", "lodging"]
    )
    assert best == "ground_transport" and near
    best, _ = index.vote("Cab ride from the hotel to the airport.", ["gifts"])
    assert best is None


class Item(BaseModel):
    category: Annotated[str | None, Keywords(), Neighbours("cats", k=3)] = None


def test_neighbours_settle_what_the_keywords_leave_open(index):
    tables = {"keywords": load_table(DATA, "keywords", ("field", "value", "phrase"))}
    texts = split_items("Taxi to the hotel after the hotel shuttle broke down, $27.40.", "")
    got = extract_items(Item, texts, tables, PersonChooser(), indexes={"cats": index})
    (reading,) = got.readings
    assert reading.origin == "neighbours" and reading.value == "ground_transport"
    assert got.ambiguities == [] and "nearest examples chose ground_transport" in reading.detail


def test_neighbours_that_disagree_make_the_field_ambiguous(index):
    tables = {"keywords": load_table(DATA, "keywords", ("field", "value", "phrase"))}
    # keywords: hotel (first, doubled) beats taxi; the examples say this is a ride
    texts = split_items("Hotel pickup by taxi and a taxi back, $27.40.", "")
    got = extract_items(Item, texts, tables, PersonChooser(), indexes={"cats": index})
    if not got.ambiguities:  # the keywords were decisive: nothing for the neighbours to settle
        pytest.fail(f"expected an undecided category, got {got.readings}")
    assert got.ambiguities[0].field == "items.0.category"
    assert "nearest examples chose" in got.ambiguities[0].why


def test_extended_adds_examples_to_a_new_index_and_leaves_the_old_one(index):
    bigger = index.extended([("review:1", "Rideshare from the hotel to the office.", "lodging")])
    near = bigger.query("Rideshare from the hotel to the client office.", k=1)
    assert [n.example for n in near] == ["review:1"]
    assert "review:1" not in index.ids and len(bigger.ids) == len(index.ids) + 1
    assert (
        index.query("Rideshare from the hotel to the client office.", k=1)[0].example != "review:1"
    )
    with pytest.raises(ValueError, match="already in the index: a"):
        index.extended([("a", "anything", "meals")])
    assert index.extended([]) is index
