"""Save and restore a shop's catalogue, stock, customers, orders and subscriptions as JSON.

Bulk operations, deliveries, call stats and idempotency keys are runtime state and are not saved.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from . import models

if TYPE_CHECKING:
    from .store import SimShop

FORMAT = 1
COLLECTIONS = {
    "locations": models.Location,
    "products": models.Product,
    "variants": models.ProductVariant,
    "items": models.InventoryItem,
    "customers": models.Customer,
    "orders": models.Order,
    "fulfillment_orders": models.FulfillmentOrder,
    "fulfillments": models.Fulfillment,
    "refunds": models.Refund,
    "subscriptions": models.WebhookSubscription,
}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value))


def _decode(cls: type, data: dict) -> Any:
    """Rebuild a dataclass, turning ISO strings back into datetimes and nested dicts into dataclasses."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value, hint = data[f.name], hints[f.name]
        text = str(hint)
        if isinstance(value, str) and "datetime" in text:
            value = datetime.fromisoformat(value)
        elif isinstance(value, dict) and f.name in ("state_updated_at",):
            value = {k: datetime.fromisoformat(v) for k, v in value.items()}
        elif isinstance(value, list) and typing.get_origin(hint) is list and typing.get_args(hint):
            inner = typing.get_args(hint)[0]
            if dataclasses.is_dataclass(inner):
                value = [_decode(inner, v) for v in value]
        elif f.name in ("events",):
            value = [{**e, "happened_at": datetime.fromisoformat(e["happened_at"])} for e in value]
        kwargs[f.name] = value
    return cls(**kwargs)


def dump(shop: SimShop, path: str) -> None:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "domain": shop.domain,
        "name": shop.name,
        "currency": shop.currency,
        "counters": [shop._next_big, shop._next_small, shop._next_order_number],
    }
    for name in COLLECTIONS:
        doc[name] = [dataclasses.asdict(obj) for obj in getattr(shop, name).values()]
    doc["levels"] = [dataclasses.asdict(lv) for lv in shop.levels.values()]
    with open(path, "wb") as fh:
        fh.write(orjson.dumps(doc, default=_encode, option=orjson.OPT_INDENT_2))


def load(shop: SimShop, path: str) -> None:
    with open(path, "rb") as fh:
        doc = orjson.loads(fh.read())
    if doc.get("format") != FORMAT:
        raise ValueError(f"unsupported simulator dump format {doc.get('format')!r}")
    shop.domain = doc.get("domain", shop.domain)
    shop.name = doc.get("name", shop.name)
    shop.currency = doc.get("currency", shop.currency)
    shop._next_big, shop._next_small, shop._next_order_number = doc["counters"]
    for name, cls in COLLECTIONS.items():
        table = getattr(shop, name)
        table.clear()
        for row in doc.get(name, []):
            obj = _decode(cls, row)
            table[obj.id] = obj
    shop.levels.clear()
    for row in doc.get("levels", []):
        lvl = _decode(models.InventoryLevel, row)
        shop.levels[(lvl.item_id, lvl.location_id)] = lvl
