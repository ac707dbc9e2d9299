"""Rule intelligence over the store's history: what a new pack version would change (what-if),
which rule bodies production fires that no test covers (coverage), what people decided on alike
reviews (precedents), the exception rules their repeated approvals suggest (proposals), and the
smallest change to a held output that its rules allow (repair)."""

from nesyflow.insight.coverage import BodyUsage, CoverageReport, production_coverage
from nesyflow.insight.precedents import Precedent, PrecedentIndex, Profile, profile_of
from nesyflow.insight.proposals import Instance, Proposal, propose
from nesyflow.insight.repair import Repair, RepairLine, repair_review
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
    "Repair",
    "RepairLine",
    "production_coverage",
    "profile_of",
    "propose",
    "repair_review",
    "whatif",
]
