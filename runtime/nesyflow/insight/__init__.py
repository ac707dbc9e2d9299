"""Rule intelligence over the store's history: what a new pack version would change (what-if),
which rule bodies production fires that no test covers (coverage), what people decided on alike
reviews (precedents) and the exception rules their repeated approvals suggest (proposals)."""

from nesyflow.insight.coverage import BodyUsage, CoverageReport, production_coverage
from nesyflow.insight.precedents import Precedent, PrecedentIndex, Profile, profile_of
from nesyflow.insight.proposals import Instance, Proposal, propose
from nesyflow.insight.whatif import Change, ImpactReport, whatif

__all__ = [
    "BodyUsage",
    "Change",
    "CoverageReport",
    "ImpactReport",
    "Instance",
    "Precedent",
    "PrecedentIndex",
    "Profile",
    "Proposal",
    "production_coverage",
    "profile_of",
    "propose",
    "whatif",
]
