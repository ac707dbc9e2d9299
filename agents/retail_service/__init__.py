"""The retail customer-service agent: tools over a per-run copy of the tau2-bench retail database,
and the context builder that gives the retail rule pack (rules/retail) the run's history.

The folder travels as a unit and is not on ``sys.path``; ``domain.py`` loads it as a package."""
