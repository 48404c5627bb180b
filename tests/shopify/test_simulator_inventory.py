"""Inventory mutation semantics: names, reasons, ledger documents, compare-and-swap, @idempotent, activation."""

from __future__ import annotations

import pytest

ADJUST = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange
      item { id } location { id } ledgerDocumentUri } }
    userErrors { field message code }
  }
}"""
SET = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
MOVE = """
mutation Move($input: InventoryMoveQuantitiesInput!, $key: String!) {
  inventoryMoveQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""


@pytest.fixture
def stocked(sim_shop):
    """A tracked item with 10 available at the first location."""
    variant = next(v for v in sim_shop.variants.values() if sim_shop.items[v.inventory_item_id].tracked)
    item = sim_shop.items[variant.inventory_item_id]
    loc = next(iter(sim_shop.locations.values()))
    sim_shop.stock(item, loc, available=10)
    return item, loc


def change(item, loc, delta, cfq=..., **extra):
    out = {"inventoryItemId": item.gid, "locationId": loc.gid, "delta": delta, **extra}
    if cfq is not ...:
        out["changeFromQuantity"] = cfq
    return out


def adjust_input(changes, name="available", reason="correction", ref="gid://branchline/Sale/S-1"):
    return {"name": name, "reason": reason, "referenceDocumentUri": ref, "changes": changes}


async def test_adjust_applies_delta_and_reports_on_hand(sim, stocked):
    item, loc = stocked
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, -2, 10)]), "key": "k1"})
    payload = data["inventoryAdjustQuantities"]
    assert payload["userErrors"] == []
    changes = {c["name"]: c for c in payload["inventoryAdjustmentGroup"]["changes"]}
    assert changes["available"]["delta"] == -2 and changes["available"]["quantityAfterChange"] == 8
    assert changes["on_hand"]["quantityAfterChange"] == 8
    assert changes["available"]["item"]["id"] == item.gid
    assert payload["inventoryAdjustmentGroup"]["referenceDocumentUri"] == "gid://branchline/Sale/S-1"
    assert sim.shop.quantities(item, loc)["available"] == 8


async def test_stale_change_from_quantity_changes_nothing(sim, stocked):
    item, loc = stocked
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, -2, 9)]), "key": "k2"})
    payload = data["inventoryAdjustQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert payload["userErrors"][0]["field"] == ["input", "changes", "0", "changeFromQuantity"]
    assert sim.shop.quantities(item, loc)["available"] == 10


async def test_change_from_quantity_must_be_sent_on_2026_04_plus(sim, stocked):
    item, loc = stocked
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, -1)]), "key": "k3"})
    errors = data["inventoryAdjustQuantities"]["userErrors"]
    assert errors and errors[0]["field"][-1] == "changeFromQuantity"
    assert sim.shop.quantities(item, loc)["available"] == 10
    # Explicit null skips the check.
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, -1, None)]), "key": "k4"})
    assert data["inventoryAdjustQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc)["available"] == 9


async def test_change_from_quantity_optional_on_2026_01(sim, stocked):
    item, loc = stocked
    body = await sim.gql(ADJUST, {"input": adjust_input([change(item, loc, -1)]), "key": "k5"}, version="2026-01")
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc)["available"] == 9


async def test_idempotent_directive_is_required_on_2026_10(sim, stocked):
    item, loc = stocked
    q = """mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) { userErrors { code } } }"""
    body = await sim.gql(q, {"input": adjust_input([change(item, loc, -1, 10)])})
    assert body["data"]["inventoryAdjustQuantities"] is None
    assert "@idempotent" in body["errors"][0]["message"]
    assert sim.shop.quantities(item, loc)["available"] == 10
    # On 2025-10 the directive doesn't exist at all: using it is a validation error.
    plain = ADJUST.replace("@idempotent(key: $key)", "").replace(", $key: String!", "")
    body = await sim.gql(plain, {"input": adjust_input([change(item, loc, -1)])}, version="2025-10")
    assert body["data"]["inventoryAdjustQuantities"]["userErrors"] == []
    body = await sim.gql(ADJUST, {"input": adjust_input([change(item, loc, -1)]), "key": "x"}, version="2025-10")
    assert "idempotent" in body["errors"][0]["message"]


async def test_replay_with_same_key_applies_once(sim, stocked):
    item, loc = stocked
    variables = {"input": adjust_input([change(item, loc, -3, 10)]), "key": "sale-77"}
    first = await sim.data(ADJUST, variables)
    second = await sim.data(ADJUST, variables)
    assert first == second
    assert sim.shop.quantities(item, loc)["available"] == 7
    # Same key, different parameters.
    variables["input"]["changes"][0]["delta"] = -4
    third = (await sim.data(ADJUST, variables))["inventoryAdjustQuantities"]
    assert third["inventoryAdjustmentGroup"] is None
    assert third["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert sim.shop.quantities(item, loc)["available"] == 7


async def test_timed_out_mutation_was_applied_and_retry_is_safe(sim, stocked):
    import httpx

    item, loc = stocked
    sim.shop.faults.delay_next(1, seconds=0.4)
    variables = {"input": adjust_input([change(item, loc, -1, 10)]), "key": "retry-me"}
    with pytest.raises(httpx.ReadTimeout):
        await sim.client.post(sim.graphql_url(), json={"query": ADJUST, "variables": variables}, timeout=0.1)
    assert sim.shop.quantities(item, loc)["available"] == 9  # applied despite the timeout
    data = await sim.data(ADJUST, variables)
    assert data["inventoryAdjustQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc)["available"] == 9


@pytest.mark.parametrize(
    ("name", "ledger", "code"),
    [
        ("available", "https://pos.example/ledger/1", "INVALID_AVAILABLE_DOCUMENT"),
        ("damaged", None, "INVALID_QUANTITY_DOCUMENT"),
        ("damaged", "gid://shopify/Order/1", "INTERNAL_LEDGER_DOCUMENT"),
        ("damaged", "not a uri", "INVALID_LEDGER_DOCUMENT"),
    ],
)
async def test_ledger_document_rules(sim, stocked, name, ledger, code):
    item, loc = stocked
    extra = {"ledgerDocumentUri": ledger} if ledger else {}
    data = await sim.data(
        ADJUST,
        {
            "input": adjust_input([change(item, loc, 1, 0 if name != "available" else 10, **extra)], name=name),
            "key": f"l-{code}",
        },
    )
    assert [e["code"] for e in data["inventoryAdjustQuantities"]["userErrors"]] == [code]


async def test_damaged_with_ledger_document_is_accepted(sim, stocked):
    item, loc = stocked
    c = change(item, loc, 2, 0, ledgerDocumentUri="gid://branchline/Damage/D-1")
    data = await sim.data(ADJUST, {"input": adjust_input([c], name="damaged", reason="damaged"), "key": "dmg"})
    assert data["inventoryAdjustQuantities"]["userErrors"] == []
    q = sim.shop.quantities(item, loc)
    assert (q["damaged"], q["available"], q["on_hand"]) == (2, 10, 12)


async def test_invalid_name_and_reason(sim, stocked):
    item, loc = stocked
    data = await sim.data(
        ADJUST, {"input": adjust_input([change(item, loc, 1, 10)], name="committed", reason="sale"), "key": "bad"}
    )
    codes = {e["code"] for e in data["inventoryAdjustQuantities"]["userErrors"]}
    assert codes == {"INVALID_QUANTITY_NAME", "INVALID_REASON"}


async def test_not_stocked_until_activated(sim, sim_shop):
    loc = list(sim_shop.locations.values())[-1]
    item = next(i for i in sim_shop.items.values() if sim_shop.level(i.id, loc.id) is None)
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, 5, 0)]), "key": "ns"})
    assert data["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "ITEM_NOT_STOCKED_AT_LOCATION"
    activate = """mutation($i: ID!, $l: ID!, $key: String!) {
      inventoryActivate(inventoryItemId: $i, locationId: $l, available: 4) @idempotent(key: $key) {
        inventoryLevel { id quantities(names: ["available", "on_hand"]) { name quantity } }
        userErrors { field message code } } }"""
    data = await sim.data(activate, {"i": item.gid, "l": loc.gid, "key": "act"})
    level = data["inventoryActivate"]["inventoryLevel"]
    assert level["id"] == f"gid://shopify/InventoryLevel/{loc.id}?inventory_item_id={item.id}"
    assert level["quantities"] == [{"name": "available", "quantity": 4}, {"name": "on_hand", "quantity": 4}]
    data = await sim.data(ADJUST, {"input": adjust_input([change(item, loc, 5, 4)]), "key": "ns2"})
    assert data["inventoryAdjustQuantities"]["userErrors"] == []
    assert sim_shop.quantities(item, loc)["available"] == 9


async def test_unknown_item_and_location(sim, stocked):
    item, loc = stocked
    bad = {
        "inventoryItemId": "gid://shopify/InventoryItem/1",
        "locationId": loc.gid,
        "delta": 1,
        "changeFromQuantity": None,
    }
    bad_loc = {
        "inventoryItemId": item.gid,
        "locationId": "gid://shopify/Location/1",
        "delta": 1,
        "changeFromQuantity": None,
    }
    data = await sim.data(ADJUST, {"input": adjust_input([bad, bad_loc]), "key": "unk"})
    assert [e["code"] for e in data["inventoryAdjustQuantities"]["userErrors"]] == [
        "INVALID_INVENTORY_ITEM",
        "INVALID_LOCATION",
    ]


async def test_more_than_250_changes_is_an_error(sim, stocked):
    item, loc = stocked
    body = await sim.gql(ADJUST, {"input": adjust_input([change(item, loc, 1, None)] * 251), "key": "big"})
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert sim.shop.quantities(item, loc)["available"] == 10


async def test_set_quantities_with_cas(sim, stocked):
    item, loc = stocked
    q = {"inventoryItemId": item.gid, "locationId": loc.gid, "quantity": 25, "changeFromQuantity": 10}
    inp = {
        "name": "available",
        "reason": "cycle_count_available",
        "referenceDocumentUri": "gid://b/Count/1",
        "quantities": [q],
    }
    data = await sim.data(SET, {"input": inp, "key": "set1"})
    assert data["inventorySetQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc)["available"] == 25
    stale = await sim.data(SET, {"input": {**inp, "quantities": [{**q, "quantity": 3}]}, "key": "set2"})
    assert stale["inventorySetQuantities"]["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    dup = await sim.data(SET, {"input": {**inp, "quantities": [{**q, "changeFromQuantity": 25}] * 2}, "key": "set3"})
    assert dup["inventorySetQuantities"]["userErrors"][0]["code"] == "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
    bad = await sim.data(SET, {"input": {**inp, "name": "damaged"}, "key": "set4"})
    assert bad["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_NAME"


async def test_set_on_hand_moves_difference_through_available(sim, stocked):
    item, loc = stocked
    sim.shop.stock(item, loc, available=10, committed=2)
    q = {"inventoryItemId": item.gid, "locationId": loc.gid, "quantity": 20, "changeFromQuantity": 12}
    inp = {"name": "on_hand", "reason": "correction", "quantities": [q]}
    data = await sim.data(SET, {"input": inp, "key": "oh"})
    assert data["inventorySetQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc) | {} == {**sim.shop.quantities(item, loc), "available": 18, "on_hand": 20}


async def test_legacy_compare_quantity_on_2025_10(sim, stocked):
    item, loc = stocked
    q = """mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {
      userErrors { code } } }"""
    base = {"inventoryItemId": item.gid, "locationId": loc.gid, "quantity": 5}
    inp = {"name": "available", "reason": "correction", "quantities": [base]}
    body = await sim.gql(q, {"input": inp}, version="2025-10")
    assert body["data"]["inventorySetQuantities"]["userErrors"] == [{"code": "COMPARE_QUANTITY_REQUIRED"}]
    body = await sim.gql(q, {"input": {**inp, "quantities": [{**base, "compareQuantity": 3}]}}, version="2025-10")
    assert body["data"]["inventorySetQuantities"]["userErrors"] == [{"code": "COMPARE_QUANTITY_STALE"}]
    body = await sim.gql(q, {"input": {**inp, "ignoreCompareQuantity": True}}, version="2025-10")
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert sim.shop.quantities(item, loc)["available"] == 5
    # compareQuantity no longer exists on 2026-04+.
    body = await sim.gql(SET, {"input": {**inp, "quantities": [{**base, "compareQuantity": 5}]}, "key": "c"})
    assert "compareQuantity" in body["errors"][0]["message"]


async def test_move_between_states_at_one_location(sim, stocked):
    item, loc = stocked
    other = list(sim.shop.locations.values())[1]
    ch = {
        "inventoryItemId": item.gid,
        "quantity": 3,
        "from": {"name": "available", "locationId": loc.gid, "changeFromQuantity": 10},
        "to": {
            "name": "reserved",
            "locationId": loc.gid,
            "ledgerDocumentUri": "gid://b/Layaway/1",
            "changeFromQuantity": 0,
        },
    }
    inp = {"reason": "reservation_created", "referenceDocumentUri": "gid://b/Layaway/1", "changes": [ch]}
    data = await sim.data(MOVE, {"input": inp, "key": "mv"})
    assert data["inventoryMoveQuantities"]["userErrors"] == []
    q = sim.shop.quantities(item, loc)
    assert (q["available"], q["reserved"], q["on_hand"]) == (7, 3, 10)
    cross = {**ch, "to": {**ch["to"], "locationId": other.gid}}
    data = await sim.data(MOVE, {"input": {**inp, "changes": [cross]}, "key": "mv2"})
    assert data["inventoryMoveQuantities"]["userErrors"][0]["code"] == "DIFFERENT_LOCATIONS"


async def test_every_level_change_records_updated_at(sim, stocked):
    item, loc = stocked
    lvl = sim.shop.level(item.id, loc.id)
    lvl.updated_at = lvl.updated_at.replace(year=2020)
    await sim.data(ADJUST, {"input": adjust_input([change(item, loc, 1, 10)]), "key": "ts"})
    assert lvl.updated_at.year != 2020
    q = 'query($id: ID!) { inventoryLevel(id: $id) { updatedAt quantities(names: ["available"]) { updatedAt } } }'
    data = await sim.data(q, {"id": lvl.gid})
    assert not data["inventoryLevel"]["updatedAt"].startswith("2020")
