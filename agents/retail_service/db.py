"""The retail database of one run: a private, copy-on-write view over a shared parse of db.json.

Parsing the 2.8 MB file takes tens of milliseconds, so it is parsed once per file (and content) and
shared read-only; a :class:`RetailDB` made from it copies a record the first time a tool writes to
it. Every run (every replayed sequence) gets its own :class:`RetailDB`, so nothing one run does is
seen by another.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_DB", "RetailDB", "load_base"]

DEFAULT_DB = Path(__file__).resolve().parent / "data" / "db.json"

_LOCK = threading.Lock()
_BASES: dict[tuple[str, int, int], _Base] = {}


@dataclass(frozen=True)
class _Base:
    data: dict[str, dict[str, Any]]
    variant_product: dict[str, str]  # item id -> product id (variants never move between products)
    user_by_email: dict[str, str]  # lower-case email -> user id (no tool changes an email)


def load_base(path: Path | str | None = None) -> _Base:
    """The parsed database in ``path`` (default: the copy in data/), cached by file and stamp."""
    file = Path(path) if path is not None else DEFAULT_DB
    stat = file.stat()
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        base = _BASES.get(key)
        if base is None:
            data = json.loads(file.read_text(encoding="utf-8"))
            for table in ("users", "orders", "products"):
                if not isinstance(data.get(table), dict):
                    raise ValueError(f"{file}: no {table!r} table (an object keyed by id)")
            variant_product = {
                item_id: pid
                for pid, product in data["products"].items()
                for item_id in product.get("variants", {})
            }
            by_email = {u["email"].lower(): uid for uid, u in data["users"].items() if "email" in u}
            base = _Base(data, variant_product, by_email)
            _BASES[key] = base
        return base


class RetailDB:
    """One run's database. Read with :meth:`user` / :meth:`order` / :meth:`product`; a tool that
    writes gets its record with :meth:`user_for_write` / :meth:`order_for_write` (copied once)."""

    def __init__(self, base: _Base) -> None:
        self._base = base
        self.users: dict[str, dict[str, Any]] = dict(base.data["users"])
        self.orders: dict[str, dict[str, Any]] = dict(base.data["orders"])
        self.products: dict[str, dict[str, Any]] = base.data["products"]  # no tool writes products
        self._copied: set[tuple[str, str]] = set()

    @classmethod
    def fresh(cls, path: Path | str | None = None) -> RetailDB:
        return cls(load_base(path))

    # ---- reads
    def user(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(user_id)

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self.orders.get(order_id)

    def product(self, product_id: str) -> dict[str, Any] | None:
        return self.products.get(product_id)

    def variant(self, item_id: str) -> dict[str, Any] | None:
        """The variant with ``item_id`` in whichever product holds it."""
        pid = self._base.variant_product.get(item_id)
        return self.products[pid]["variants"][item_id] if pid is not None else None

    def product_of(self, item_id: str) -> str | None:
        return self._base.variant_product.get(item_id)

    def user_by_email(self, email: str) -> str | None:
        return self._base.user_by_email.get(email.lower())

    def user_by_name_zip(self, first: str, last: str, zip_code: str) -> str | None:
        first, last = first.lower(), last.lower()
        for uid, user in self.users.items():
            name = user.get("name", {})
            if (
                name.get("first_name", "").lower() == first
                and name.get("last_name", "").lower() == last
                and user.get("address", {}).get("zip") == zip_code
            ):
                return uid
        return None

    # ---- what a run changed (to carry a run's database in its checkpointed state)
    def changes(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The records this run wrote, as plain data: ``{"users": {id: record}, "orders": {...}}``."""
        out: dict[str, dict[str, dict[str, Any]]] = {"users": {}, "orders": {}}
        for table, key in sorted(self._copied):
            out[table][key] = copy.deepcopy(getattr(self, table)[key])
        return out

    def apply(self, changes: dict[str, dict[str, dict[str, Any]]]) -> RetailDB:
        """Put back records a run wrote (what :meth:`changes` gave); returns ``self``."""
        for table in ("users", "orders"):
            records = getattr(self, table)
            for key, record in (changes.get(table) or {}).items():
                records[key] = copy.deepcopy(record)
                self._copied.add((table, key))
        return self

    # ---- writes (copy on first write)
    def user_for_write(self, user_id: str) -> dict[str, Any]:
        return self._own("users", self.users, user_id)

    def order_for_write(self, order_id: str) -> dict[str, Any]:
        return self._own("orders", self.orders, order_id)

    def _own(self, table: str, records: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
        if (table, key) not in self._copied:
            records[key] = copy.deepcopy(records[key])
            self._copied.add((table, key))
        return records[key]
