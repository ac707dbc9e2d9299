"""Rule intelligence over the store's history: what a new pack version would change (what-if) and
which rule bodies production fires that no test covers (coverage)."""

from nesyflow.insight.coverage import BodyUsage, CoverageReport, production_coverage
from nesyflow.insight.whatif import Change, ImpactReport, whatif

__all__ = [
    "BodyUsage",
    "Change",
    "CoverageReport",
    "ImpactReport",
    "production_coverage",
    "whatif",
]
