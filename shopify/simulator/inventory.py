"""inventoryAdjustQuantities / SetQuantities / MoveQuantities / Activate rules (reference section 3).

Every mutation validates all changes first and applies nothing if any fails, returning typed userErrors.
Compare-and-swap: `changeFromQuantity` exists from 2026-01 and must be sent (value or explicit null) from
2026-04; before 2026-04 the set mutation also honours the legacy compareQuantity/ignoreCompareQuantity.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from .ids import gid, maybe_gid, now
from .models import ON_HAND_PARTS

if TYPE_CHECKING:
    from .store import SimShop

REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
SET_NAMES = ("available", "on_hand")
MOVE_NAMES = ("available", "damaged", "quality_control", "reserved", "safety_stock", "incoming")
ADJUST_LIMIT, SET_LIMIT = 2_000_000_000, 1_000_000_000
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
APP = {"id": "gid://shopify/App/1830279", "title": "Branchline"}
CAS_MISSING = "changeFromQuantity must be provided (a value, or null to skip the check) from API version 2026-04."


def _err(field: list, message: str, code: str | None) -> dict:
    return {"field": [str(f) for f in field], "message": message, "code": code}


def check_input_size(shop: SimShop, items: list, what: str) -> None:
    limit = shop.config.max_input_size
    if len(items) > limit:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of {limit}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argument": what},
        )


def _resolve(shop: SimShop, item_ref: Any, loc_ref: Any, path: list, errors: list) -> Any:
    item_id = maybe_gid(item_ref, "InventoryItem")
    if item_id is None or item_id not in shop.items:
        errors.append(
            _err(
                [*path, "inventoryItemId"], "The specified inventory item could not be found.", "INVALID_INVENTORY_ITEM"
            )
        )
        return None
    loc_id = maybe_gid(loc_ref, "Location")
    if loc_id is None or loc_id not in shop.locations:
        errors.append(_err([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"))
        return None
    lvl = shop.level(item_id, loc_id)
    if lvl is None:
        errors.append(
            _err(
                [*path, "locationId"],
                "The specified inventory item is not stocked at the location.",
                "ITEM_NOT_STOCKED_AT_LOCATION",
            )
        )
    return lvl


def _cas(version: tuple, shop: SimShop, change: dict, current: int, path: list, errors: list) -> bool:
    """Check changeFromQuantity. True if the caller should still apply its legacy compare (pre-2026-04 only)."""
    if version < (2026, 1):
        return True
    if "changeFromQuantity" not in change:
        if version >= shop.config.cas_required_from:
            errors.append(_err([*path, "changeFromQuantity"], CAS_MISSING, None))
            return False
        return True
    expected = change["changeFromQuantity"]
    if expected is not None and expected != current:
        message = f"The quantity couldn't be updated because it changed from {expected} to {current}."
        errors.append(_err([*path, "changeFromQuantity"], message, "CHANGE_FROM_QUANTITY_STALE"))
    return False


def _ledger(name: str, uri: str | None, path: list, errors: list) -> None:
    if name == "available":
        if uri is not None:
            message = "A ledger document URI is not allowed when adjusting available."
            errors.append(_err([*path, "ledgerDocumentUri"], message, "INVALID_AVAILABLE_DOCUMENT"))
        return
    if uri is None:
        message = "A ledger document URI is required except when adjusting available."
        errors.append(_err([*path, "ledgerDocumentUri"], message, "INVALID_QUANTITY_DOCUMENT"))
    elif uri.startswith("gid://shopify/"):
        message = "The ledger document URI must not be a Shopify resource."
        errors.append(_err([*path, "ledgerDocumentUri"], message, "INTERNAL_LEDGER_DOCUMENT"))
    elif not _URI.match(uri):
        errors.append(
            _err([*path, "ledgerDocumentUri"], "The ledger document URI is not valid.", "INVALID_LEDGER_DOCUMENT")
        )


def _header(shop: SimShop, inp: dict, errors: list, names: tuple | None) -> None:
    if names is not None and inp["name"] not in names:
        code = "INVALID_NAME" if names == SET_NAMES else "INVALID_QUANTITY_NAME"
        errors.append(_err(["input", "name"], f"The quantity name must be one of: {', '.join(names)}.", code))
    if inp["reason"] not in REASONS:
        errors.append(_err(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    ref = inp.get("referenceDocumentUri")
    if ref is not None and not _URI.match(ref):
        errors.append(
            _err(
                ["input", "referenceDocumentUri"],
                "The reference document URI is not valid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )


def _group(shop: SimShop, inp: dict, changes: list[dict]) -> dict:
    return {
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", shop.next_small_id()),
        "createdAt": now(),
        "reason": inp["reason"],
        "referenceDocumentUri": inp.get("referenceDocumentUri"),
        "app": APP,
        "changes": changes,
    }


def _change(shop: SimShop, lvl: Any, name: str, delta: int, ledger: str | None = None) -> dict:
    return {
        "name": name,
        "delta": delta,
        "quantityAfterChange": lvl.get(name),
        "item": shop.items[lvl.item_id],
        "location": shop.locations[lvl.location_id],
        "ledgerDocumentUri": ledger,
    }


def _with_on_hand(shop: SimShop, lvl: Any, name: str, delta: int, ledger: str | None, out: list) -> None:
    """Shopify reports the derived on_hand movement alongside the state that changed."""
    out.append(_change(shop, lvl, name, delta, ledger))
    if name in ON_HAND_PARTS:
        out.append(_change(shop, lvl, "on_hand", delta))


def adjust(shop: SimShop, inp: dict, version: tuple) -> dict:
    check_input_size(shop, inp["changes"], "changes")
    errors: list = []
    _header(shop, inp, errors, tuple(shop.config.adjust_names))
    running: dict[tuple, int] = {}
    plan = []
    for n, ch in enumerate(inp["changes"]):
        path = ["input", "changes", n]
        if inp["name"] in shop.config.adjust_names:
            _ledger(inp["name"], ch.get("ledgerDocumentUri"), path, errors)
        lvl = _resolve(shop, ch["inventoryItemId"], ch["locationId"], path, errors)
        if lvl is None or inp["name"] not in shop.config.adjust_names:
            continue
        key = (lvl.item_id, lvl.location_id)
        current = running.get(key, lvl.get(inp["name"]))
        _cas(version, shop, ch, current, path, errors)
        after = current + ch["delta"]
        if after > ADJUST_LIMIT:
            errors.append(_err([*path, "delta"], "The quantity is too high.", "INVALID_QUANTITY_TOO_HIGH"))
        elif after < -ADJUST_LIMIT:
            errors.append(_err([*path, "delta"], "The quantity is too low.", "INVALID_QUANTITY_TOO_LOW"))
        running[key] = after
        plan.append((lvl, ch))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes: list = []
    for lvl, ch in plan:
        shop.apply_deltas(lvl, {inp["name"]: ch["delta"]}, reason=inp["reason"], source="api")
        _with_on_hand(shop, lvl, inp["name"], ch["delta"], ch.get("ledgerDocumentUri"), changes)
    return {"inventoryAdjustmentGroup": _group(shop, inp, changes), "userErrors": []}


def set_quantities(shop: SimShop, inp: dict, version: tuple) -> dict:
    check_input_size(shop, inp["quantities"], "quantities")
    errors: list = []
    _header(shop, inp, errors, SET_NAMES)
    seen: set = set()
    plan = []
    for n, q in enumerate(inp["quantities"]):
        path = ["input", "quantities", n]
        lvl = _resolve(shop, q["inventoryItemId"], q["locationId"], path, errors)
        if lvl is None or inp["name"] not in SET_NAMES:
            continue
        key = (lvl.item_id, lvl.location_id)
        if key in seen:
            message = "The combination of inventoryItemId and locationId must be unique."
            errors.append(_err(path, message, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
            continue
        seen.add(key)
        current = lvl.get(inp["name"])
        legacy = _cas(version, shop, q, current, path, errors)
        if legacy and version < (2026, 4) and not inp.get("ignoreCompareQuantity"):
            if q.get("compareQuantity") is None:
                message = (
                    "The compareQuantity argument must be given to each quantity "
                    "or ignored using ignoreCompareQuantity."
                )
                errors.append(_err([*path, "compareQuantity"], message, "COMPARE_QUANTITY_REQUIRED"))
            elif q["compareQuantity"] != current:
                message = "The compareQuantity value does not match persisted value."
                errors.append(_err([*path, "compareQuantity"], message, "COMPARE_QUANTITY_STALE"))
        if q["quantity"] > SET_LIMIT:
            errors.append(_err([*path, "quantity"], "The quantity is too high.", "INVALID_QUANTITY_TOO_HIGH"))
        elif q["quantity"] < -SET_LIMIT:
            errors.append(_err([*path, "quantity"], "The quantity is too low.", "INVALID_QUANTITY_TOO_LOW"))
        elif inp["name"] == "on_hand" and q["quantity"] < 0:
            errors.append(_err([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"))
        plan.append((lvl, q, current))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes: list = []
    for lvl, q, current in plan:
        delta = q["quantity"] - current
        # Setting on_hand moves the difference through available, as Shopify does.
        shop.apply_deltas(lvl, {"available": delta}, reason=inp["reason"], source="api")
        _with_on_hand(shop, lvl, "available", delta, None, changes)
    return {"inventoryAdjustmentGroup": _group(shop, inp, changes), "userErrors": []}


def move(shop: SimShop, inp: dict, version: tuple) -> dict:
    check_input_size(shop, inp["changes"], "changes")
    errors: list = []
    _header(shop, inp, errors, None)
    plan = []
    for n, ch in enumerate(inp["changes"]):
        path = ["input", "changes", n]
        src, dst = ch["from"], ch["to"]
        if src["locationId"] != dst["locationId"]:
            message = "The quantities can't be moved between different locations."
            errors.append(_err([*path, "to", "locationId"], message, "DIFFERENT_LOCATIONS"))
            continue
        if src["name"] == dst["name"]:
            errors.append(_err([*path, "to", "name"], "The quantity names must differ.", "SAME_QUANTITY_NAME"))
            continue
        if ch["quantity"] <= 0:
            errors.append(_err([*path, "quantity"], "The quantity must be positive.", "INVALID_QUANTITY_NEGATIVE"))
        bad = False
        for side, term in (("from", src), ("to", dst)):
            if term["name"] not in MOVE_NAMES:
                message = f"The quantity name must be one of: {', '.join(MOVE_NAMES)}."
                errors.append(_err([*path, side, "name"], message, "INVALID_QUANTITY_NAME"))
                bad = True
            else:
                _ledger(term["name"], term.get("ledgerDocumentUri"), [*path, side], errors)
        lvl = _resolve(shop, ch["inventoryItemId"], src["locationId"], path, errors)
        if lvl is None or bad:
            continue
        for side, term in (("from", src), ("to", dst)):
            _cas(version, shop, term, lvl.get(term["name"]), [*path, side], errors)
        plan.append((lvl, ch))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes: list = []
    for lvl, ch in plan:
        src, dst, qty = ch["from"], ch["to"], ch["quantity"]
        shop.apply_deltas(lvl, {src["name"]: -qty, dst["name"]: qty}, reason=inp["reason"], source="api")
        changes.append(_change(shop, lvl, src["name"], -qty, src.get("ledgerDocumentUri")))
        changes.append(_change(shop, lvl, dst["name"], qty, dst.get("ledgerDocumentUri")))
    return {"inventoryAdjustmentGroup": _group(shop, inp, changes), "userErrors": []}


def activate(shop: SimShop, item_ref: str, loc_ref: str, available: int | None, on_hand: int | None) -> dict:
    item_id, loc_id = maybe_gid(item_ref, "InventoryItem"), maybe_gid(loc_ref, "Location")
    if item_id is None or item_id not in shop.items:
        err = _err(["inventoryItemId"], "Inventory item does not exist", "INVALID_INVENTORY_ITEM")
        return {"inventoryLevel": None, "userErrors": [err]}
    if loc_id is None or loc_id not in shop.locations:
        return {
            "inventoryLevel": None,
            "userErrors": [_err(["locationId"], "Location does not exist", "INVALID_LOCATION")],
        }
    existing = shop.level(item_id, loc_id)
    lvl = shop.activate(item_id, loc_id)
    if existing is None:
        start = available if available is not None else (on_hand or 0)
        if start:
            shop.apply_deltas(lvl, {"available": start}, reason="correction", source="api")
        shop.emit(
            "inventory_levels/connect",
            {"inventory_item_id": item_id, "location_id": loc_id, "available": lvl.get("available")}
            | {"admin_graphql_api_id": lvl.gid},
        )
    return {"inventoryLevel": lvl, "userErrors": []}


def deactivate(shop: SimShop, level_ref: str) -> dict:
    from .resolve_catalog import lookup_node

    lvl = lookup_node(shop, level_ref)
    if lvl is None:
        return {"userErrors": [{"field": ["inventoryLevelId"], "message": "Inventory level does not exist"}]}
    if lvl.get("committed"):
        return {"userErrors": [{"field": ["inventoryLevelId"], "message": "The item has committed quantity here."}]}
    del shop.levels[(lvl.item_id, lvl.location_id)]
    shop.emit("inventory_levels/disconnect", {"inventory_item_id": lvl.item_id, "location_id": lvl.location_id})
    return {"userErrors": []}
