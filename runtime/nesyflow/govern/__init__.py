"""Data governance enforced over the store: who sees what (masking), what is kept (retention)."""

from nesyflow.govern.access import ADMIN, Viewer, may_see
from nesyflow.govern.masking import Masks, RunMask, run_mask

__all__ = ["ADMIN", "Masks", "RunMask", "Viewer", "may_see", "run_mask"]
