"""Customers over GraphQL: made at the counter, one per phone, found by phone, name or CNIC, named on a sale
and shown in its history; who may see and make them; keys replayed."""

from datetime import UTC, datetime
from decimal import Decimal

from strawberry import relay

from models.branches import Branch
from models.catalog import Variant
from models.customers import Customer
from models.staff import AuditEntry, Role
from operations.counter.registers import open_register
from operations.directory.branches import NewCounter, create_counter
from operations.directory.staff import authenticate
from operations.kernel.access import SYSTEM
from operations.orders.intake import take_in
from operations.orders.payloads import IncomingLine, IncomingOrder, Placement, _customer_gid
from schema.ids import global_id
from tests.factories import make_branch, make_variants, stock

CREATE = """mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
  customer { id firstName lastName displayName phone email cnic ntn }
  errors { field message code } } }"""
UPDATE = """mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) {
  customer { id firstName lastName phone email cnic ntn }
  errors { field message code } } }"""
LIST = """query($search: String, $first: Int!, $after: String) {
  customers(first: $first, after: $after, search: $search) {
  edges { cursor node { id firstName phone cnic } } pageInfo { hasNextPage endCursor } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  sale { id number customerName customerPhone customer { id firstName phone } }
  errors { field message code } } }"""
SAVE_DRAFT = """mutation($input: SaveDraftInput!) { saveDraft(input: $input) {
  sale { id status customer { id } } errors { field message code } } }"""
HISTORY = """query($id: ID!, $first: Int!, $after: String) { node(id: $id) { ... on Customer {
  firstName sales(first: $first, after: $after) {
    edges { node { id number status } } pageInfo { hasNextPage endCursor } }
} } }"""


def _new(first="Ayesha", key="c-1", **more):
    return {"input": {"firstName": first, "idempotencyKey": key, **more}}


async def _counter_with_register(anonymous, *, role=Role.CASHIER):
    branch = await make_branch()
    counter, _ = await create_counter(SYSTEM, NewCounter(branch.id, "C1", "Counter 1"))
    [v] = await make_variants(1)
    await stock(branch.id, v.id, 10)
    cashier = await anonymous.as_staff(role, [branch.id], pin="1357")
    await open_register(await authenticate(cashier.token), counter.id, Decimal("0"), "open")
    return branch, counter, v, cashier


def _checkout(counter, v, key, **more):
    return {
        "input": {
            "counterId": str(global_id("Counter", counter.id)),
            "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
            "tenders": [{"type": "CASH", "amount": "1000"}],
            "idempotencyKey": key,
            **more,
        }
    }


async def test_a_cashier_makes_a_customer_at_the_counter_with_the_phone_in_e164(anonymous, db):
    _, _, _, cashier = await _counter_with_register(anonymous)
    made = (
        await cashier(
            CREATE,
            _new(
                "Ayesha",
                lastName=" Khan ",
                phone="0300-1234567",
                email="ayesha@example.pk",
                cnic="3520212345671",
                ntn=" 1234567-8 ",
            ),
        )
    )["createCustomer"]
    assert made["errors"] == []
    c = made["customer"]
    assert (c["firstName"], c["lastName"], c["displayName"], c["phone"], c["cnic"], c["ntn"]) == (
        "Ayesha",
        "Khan",
        "Ayesha Khan",
        "+923001234567",
        "35202-1234567-1",
        "1234567-8",
    )
    entry = await AuditEntry.get(action="customer.created")
    assert entry.target_id == relay.GlobalID.from_id(c["id"]).node_id and entry.actor.startswith("staff:")


async def test_bad_fields_are_refused_each_by_name(api, db):
    bad = await api(CREATE, _new("", phone="12345", cnic="123", ntn="12", email="nope"))
    assert {(e["field"], e["code"]) for e in bad["createCustomer"]["errors"]} == {
        ("firstName", "INVALID"),
        ("phone", "INVALID"),
        ("cnic", "INVALID"),
        ("ntn", "INVALID"),
        ("email", "INVALID"),
    }
    assert await Customer.all().count() == 0


async def test_a_phone_someone_has_is_refused_naming_them(api, db):
    first = (await api(CREATE, _new("Ayesha", lastName="Khan", phone="+92 300 1234567", key="a")))["createCustomer"]
    again = (await api(CREATE, _new("Bilal", phone="923001234567", key="b")))["createCustomer"]
    assert again["customer"] is None
    [error] = again["errors"]
    assert (error["field"], error["code"]) == ("phone", "DUPLICATE")
    assert "Ayesha Khan" in error["message"] and first["customer"]["id"] in error["message"]
    assert await Customer.all().count() == 1
    # Changing another customer to that phone is refused the same way.
    bilal = (await api(CREATE, _new("Bilal", phone="0321-7654321", key="c")))["createCustomer"]["customer"]
    moved = await api(UPDATE, {"input": {"customerId": bilal["id"], "phone": "03001234567", "idempotencyKey": "u"}})
    [error] = moved["updateCustomer"]["errors"]
    assert error["code"] == "DUPLICATE" and first["customer"]["id"] in error["message"]
    assert (await Customer.get(id=int(relay.GlobalID.from_id(bilal["id"]).node_id))).phone == "+923217654321"


async def test_a_repeated_key_makes_one_customer_and_a_reused_key_is_refused(api, db):
    one = await api(CREATE, _new("Ayesha", phone="03001234567", key="same"))
    two = await api(CREATE, _new("Ayesha", phone="03001234567", key="same"))
    assert two["createCustomer"]["customer"]["id"] == one["createCustomer"]["customer"]["id"]
    assert await Customer.all().count() == 1
    other = await api(CREATE, _new("Zara", phone="03111234567", key="same"))
    assert other["createCustomer"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await Customer.all().count() == 1


async def test_an_update_changes_what_is_given_once_and_is_audited(api, db):
    made = (await api(CREATE, _new("Ayesha", phone="03001234567", email="a@example.pk", key="m")))["createCustomer"]
    cid = made["customer"]["id"]
    change = {"input": {"customerId": cid, "lastName": "Malik", "email": "", "idempotencyKey": "u-1"}}
    changed = (await api(UPDATE, change))["updateCustomer"]
    assert changed["errors"] == []
    assert (changed["customer"]["lastName"], changed["customer"]["email"], changed["customer"]["phone"]) == (
        "Malik",
        None,
        "+923001234567",
    )
    # Someone renames her since; a retry of the first change returns her and does not apply it again.
    await api(UPDATE, {"input": {"customerId": cid, "lastName": "Raza", "idempotencyKey": "u-2"}})
    retried = (await api(UPDATE, change))["updateCustomer"]
    assert retried["errors"] == [] and retried["customer"]["lastName"] == "Raza"
    reused = await api(UPDATE, {"input": {"customerId": cid, "lastName": "X", "idempotencyKey": "u-1"}})
    assert reused["updateCustomer"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await AuditEntry.filter(action="customer.updated").count() == 2
    missing = await api(
        UPDATE, {"input": {"customerId": str(global_id("Customer", 999)), "lastName": "Y", "idempotencyKey": "u-3"}}
    )
    assert missing["updateCustomer"]["errors"][0]["code"] == "NOT_FOUND"


async def test_search_finds_by_phone_in_any_form_name_email_and_cnic(api, db):
    for i, (first, last, phone, cnic) in enumerate(
        [
            ("Ayesha", "Khan", "03001234567", "35202-1234567-1"),
            ("Bilal", "Ahmed", "+92 321 7654321", None),
            ("Ayesha", "Raza", "0333 1112223", "42101-1111111-3"),
        ]
    ):
        await api(CREATE, _new(first, lastName=last, phone=phone, cnic=cnic, key=f"s-{i}"))

    async def found(search):
        data = await api(LIST, {"search": search, "first": 10})
        return [e["node"]["firstName"] + " " + (e["node"]["phone"] or "") for e in data["customers"]["edges"]]

    assert await found("0300-1234567") == ["Ayesha +923001234567"]
    assert await found("+923217654321") == ["Bilal +923217654321"]
    assert await found("7654321") == ["Bilal +923217654321"]  # part of a phone's digits
    assert await found("ayesha") == ["Ayesha +923001234567", "Ayesha +923331112223"]
    assert await found("ayesha raza") == ["Ayesha +923331112223"]
    assert await found("4210111111113") == ["Ayesha +923331112223"]  # a CNIC without its dashes
    assert await found("nobody") == []
    page = await api(LIST, {"first": 2})
    assert page["customers"]["pageInfo"]["hasNextPage"]
    rest = await api(LIST, {"first": 2, "after": page["customers"]["pageInfo"]["endCursor"]})
    assert [e["node"]["firstName"] for e in rest["customers"]["edges"]] == ["Ayesha"]


async def test_a_checkout_names_its_customer_and_shows_in_their_history(anonymous, db):
    _, counter, v, cashier = await _counter_with_register(anonymous)
    made = (await cashier(CREATE, _new("Ayesha", lastName="Khan", phone="03001234567", key="c")))["createCustomer"]
    cid = made["customer"]["id"]
    by_id = (await cashier(CHECKOUT, _checkout(counter, v, "sale-1", customer={"id": cid})))["checkout"]
    assert by_id["errors"] == []
    sale = by_id["sale"]
    assert sale["customer"] == {"id": cid, "firstName": "Ayesha", "phone": "+923001234567"}
    assert (sale["customerName"], sale["customerPhone"]) == ("Ayesha Khan", "+923001234567")  # on the receipt
    by_phone = (
        await cashier(
            CHECKOUT, _checkout(counter, v, "sale-2", customer={"phone": "+92 300 1234567"}, customerName="Ayesha K.")
        )
    )["checkout"]
    assert by_phone["sale"]["customer"]["id"] == cid and by_phone["sale"]["customerName"] == "Ayesha K."
    walk_in = await cashier(CHECKOUT, _checkout(counter, v, "sale-3", customerName="Walk-in", customerPhone="0300"))
    assert walk_in["checkout"]["sale"]["customer"] is None  # name and phone on the receipt only, as before
    assert walk_in["checkout"]["sale"]["customerName"] == "Walk-in"

    history = (await cashier(HISTORY, {"id": cid, "first": 1}))["node"]
    assert [e["node"]["id"] for e in history["sales"]["edges"]] == [by_phone["sale"]["id"]]  # newest first
    more = await cashier(HISTORY, {"id": cid, "first": 5, "after": history["sales"]["pageInfo"]["endCursor"]})
    assert [e["node"]["id"] for e in more["node"]["sales"]["edges"]] == [sale["id"]]
    assert not more["node"]["sales"]["pageInfo"]["hasNextPage"]


async def test_a_phone_nobody_has_is_refused_at_the_counter_and_no_customer_is_made(anonymous, db):
    _, counter, v, cashier = await _counter_with_register(anonymous)
    refused = (await cashier(CHECKOUT, _checkout(counter, v, "s-1", customer={"phone": "0300-7777777"})))["checkout"]
    assert refused["sale"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("customer.phone", "NOT_FOUND")]
    nonsense = (await cashier(CHECKOUT, _checkout(counter, v, "s-2", customer={"phone": "abc"})))["checkout"]
    assert [(e["field"], e["code"]) for e in nonsense["errors"]] == [("customer.phone", "INVALID")]
    unknown = await cashier(CHECKOUT, _checkout(counter, v, "s-3", customer={"id": str(global_id("Customer", 9))}))
    assert [(e["field"], e["code"]) for e in unknown["checkout"]["errors"]] == [("customer.id", "NOT_FOUND")]
    assert await Customer.all().count() == 0


async def test_a_draft_names_its_customer_by_phone(anonymous, db):
    _, counter, v, cashier = await _counter_with_register(anonymous)
    made = (await cashier(CREATE, _new("Ayesha", phone="03001234567", key="c")))["createCustomer"]["customer"]
    draft = {
        "input": {
            "counterId": str(global_id("Counter", counter.id)),
            "lines": [{"variant": {"sku": v.sku}, "quantity": 1}],
            "idempotencyKey": "d-1",
            "customer": {"phone": "0300 1234567"},
        }
    }
    saved = (await cashier(SAVE_DRAFT, draft))["saveDraft"]
    assert saved["errors"] == [] and saved["sale"]["customer"] == {"id": made["id"]}
    history = (await cashier(HISTORY, {"id": made["id"], "first": 5}))["node"]["sales"]["edges"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in history] == [(saved["sale"]["id"], "DRAFT")]
    # Her phone changes; a retry of the save still returns the first draft (the phone is not looked up again).
    await cashier(UPDATE, {"input": {"customerId": made["id"], "phone": "0333-0000000", "idempotencyKey": "u"}})
    retried = (await cashier(SAVE_DRAFT, draft))["saveDraft"]
    assert retried["errors"] == [] and retried["sale"] == saved["sale"]


async def test_who_may_see_and_make_customers(anonymous, db):
    branch, _, _, cashier = await _counter_with_register(anonymous)
    made = (await cashier(CREATE, _new("Ayesha", phone="03001234567", key="c")))["createCustomer"]["customer"]
    assert made is not None  # a cashier may, at the counter

    body = await anonymous.raw(CREATE, _new("Zara", key="z"))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await anonymous.raw(LIST, {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    clerk = await anonymous.as_staff(Role.INVENTORY, [branch.id])
    body = await clerk.raw(CREATE, _new("Zara", key="z2"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await clerk.raw(LIST, {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await clerk("query($id: ID!) { node(id: $id) { id } }", {"id": made["id"]}))["node"] is None

    finance = await anonymous.as_staff(Role.FINANCE, [branch.id])  # sees sales: sees customers, makes none
    assert len((await finance(LIST, {"first": 5}))["customers"]["edges"]) == 1
    body = await finance.raw(CREATE, _new("Zara", key="z3"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Customer.all().count() == 1


ORDERS = """query($id: ID!) { node(id: $id) { ... on Customer {
  orders(first: 10) { edges { node { name customerPhone } } } } } }"""


async def _order(n: int, location: str, variant, *, phone=None, shopify_customer=None):
    line = IncomingLine(f"gid://shopify/LineItem/{n}", variant.shopify_variant_id, variant.sku, variant.title, 1, 1000)
    incoming = IncomingOrder(
        shopify_order_id=f"gid://shopify/Order/{n}",
        name=f"#{1000 + n}",
        updated_at=datetime.now(UTC),
        created_at=datetime.now(UTC),
        cancelled_at=None,
        financial_status="paid",
        gateways=["shopify_payments"],
        currency="PKR",
        total=Decimal("1000.00"),
        customer_name="Ayesha Khan",
        customer_phone=phone,
        customer_email=None,
        shipping_address={},
        lines=[line],
        shopify_customer_id=shopify_customer,
    )
    return await take_in(incoming, Placement(location, tracked={line.shopify_line_item_id: True}))


async def test_online_orders_link_their_customer_by_shopify_id_or_phone(api, db):
    branch = await make_branch()
    location = "gid://shopify/Location/1"
    await Branch.filter(id=branch.id).update(shopify_location_id=location)
    [v] = await make_variants(1)
    await Variant.filter(id=v.id).update(shopify_variant_id="gid://shopify/ProductVariant/1")
    v.shopify_variant_id = "gid://shopify/ProductVariant/1"
    await stock(branch.id, v.id, 10)
    ayesha = (await api(CREATE, _new("Ayesha", phone="03001234567", key="a")))["createCustomer"]["customer"]
    bilal = (await api(CREATE, _new("Bilal", phone="03217654321", key="b")))["createCustomer"]["customer"]
    await Customer.filter(first_name="Bilal").update(shopify_customer_id="gid://shopify/Customer/77")

    await _order(1, location, v, phone="+92 300 1234567")  # by phone, in another form
    await _order(2, location, v, phone="0300 9999999", shopify_customer="gid://shopify/Customer/77")  # by Shopify id
    await _order(3, location, v, phone="0311 0000000")  # nobody: no customer is made

    def names(data):
        return [e["node"]["name"] for e in data["node"]["orders"]["edges"]]

    assert names(await api(ORDERS, {"id": ayesha["id"]})) == ["#1001"]
    assert names(await api(ORDERS, {"id": bilal["id"]})) == ["#1002"]
    assert await Customer.all().count() == 2


def test_an_order_payload_names_its_shopify_customer():
    assert _customer_gid({"id": 77, "admin_graphql_api_id": "gid://shopify/Customer/77"}) == "gid://shopify/Customer/77"
    assert _customer_gid({"id": 77}) == "gid://shopify/Customer/77"
    assert _customer_gid({"id": "gid://shopify/Customer/78"}) == "gid://shopify/Customer/78"
    assert _customer_gid({"id": "gid://shopify/Order/78"}) is None
    assert _customer_gid(None) is None
