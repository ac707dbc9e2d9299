"""pydantic ↔ ASP facts: the encoding rule authors write against (see :mod:`nesyflow.schema.plan`)."""

from nesyflow.schema.facts import (
    NUL_ESCAPE,
    FactSet,
    OutOfRange,
    decode_value,
    encode_value,
    from_facts,
    to_facts,
)
from nesyflow.schema.plan import (
    Fixed,
    ModelPlan,
    Money,
    OmitOutOfRange,
    Predicate,
    ValueKind,
    ValueType,
    constant_name,
    entity_name,
    plan_for,
    vocabulary,
)

__all__ = [
    "NUL_ESCAPE",
    "FactSet",
    "Fixed",
    "ModelPlan",
    "Money",
    "OmitOutOfRange",
    "OutOfRange",
    "Predicate",
    "ValueKind",
    "ValueType",
    "constant_name",
    "decode_value",
    "encode_value",
    "entity_name",
    "from_facts",
    "plan_for",
    "to_facts",
    "vocabulary",
]
