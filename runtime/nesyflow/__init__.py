"""nesyflow: LLM agent steps checked by Answer Set Programming rules, people at the checkpoints."""

__version__ = "0.1.0"
