"""Customers: found by phone at the counter, created and edited there, imported from Shopify.

A phone is kept in one form, E.164 (`normalise_phone`, pure): a Pakistani number however it was
typed (0300-1234567, +92 300 1234567, 923001234567, 0092…) becomes +923001234567, and another
country's number is kept if it was given with its + (or 00). One phone belongs to one customer: a
UNIQUE index on `customer.phone` settles two counters creating the same customer at once, and
the loser is told who has the number (`CustomerExists`). The Shopify import normalises with the
same function and links a counter-made customer by phone instead of adding a second one
(operations/sync/catalog_upsert.py).
"""

import re
from dataclasses import asdict, dataclass

from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.customers import Customer
from models.orders import Order
from models.sales import Sale
from operations.directory.catalog_outbox import queue_customer_create
from operations.kernel import (
    AccessDenied,
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problem,
    Problems,
    fetch,
    record_audit,
    require,
    require_signed_in,
    run_once,
    transaction,
)

_SEPARATORS = re.compile(r"[\s\-.()/]")
_CNIC = re.compile(r"^(\d{5})-?(\d{7})-?(\d)$")
_NTN = re.compile(r"^\d{7,8}(-\d)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_phone(raw: str | None) -> str | None:
    """The phone in E.164 (+923001234567), or None when it is not a phone number.

    Pakistani numbers in any common form: 0300-1234567, 03001234567, 3001234567, +92 300 1234567,
    923001234567, 0092 300 1234567; landlines too (042-35761234 → +924235761234). A mobile (3…) has
    exactly ten digits after 92, a landline nine or ten. Another country's number only with its
    +/00 prefix (8–15 digits, E.164's limits), since without one it cannot be told from ours."""
    if raw is None:
        return None
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isascii() or not digits.isdigit():
        return None
    if plus:
        if digits.startswith("92"):
            return _pakistani(digits[2:])
        if digits[0] == "0" or not 8 <= len(digits) <= 15:
            return None
        return "+" + digits
    if digits.startswith("92") and len(digits) in (11, 12):
        return _pakistani(digits[2:])
    if digits.startswith("0"):
        return _pakistani(digits[1:])
    if digits.startswith("3"):
        return _pakistani(digits)
    return None


def _pakistani(national: str) -> str | None:
    """+92 and the national significant number (without the trunk 0), if it is one."""
    if not national or national[0] == "0":
        return None
    if national[0] == "3":
        return "+92" + national if len(national) == 10 else None
    return "+92" + national if len(national) in (9, 10) else None


def normalise_cnic(raw: str) -> str | None:
    """A CNIC as 5-7-1 digits with dashes (35202-1234567-1), or None when it is not one."""
    found = _CNIC.match(raw.strip())
    return f"{found[1]}-{found[2]}-{found[3]}" if found else None


@dataclass(frozen=True)
class NewCustomer:
    first_name: str
    last_name: str = ""
    phone: str | None = None
    email: str | None = None
    cnic: str | None = None
    ntn: str | None = None


@dataclass(frozen=True)
class CustomerChanges:
    """None leaves a field as it is; an empty string clears an optional one."""

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    cnic: str | None = None
    ntn: str | None = None


class CustomerExists(OperationError):
    """The phone is another customer's: `customer_id` says whose (the API gives its ID)."""

    def __init__(self, customer: Customer, phone: str):
        name = customer.display_name or "a customer"
        super().__init__([Problem(ErrorCode.DUPLICATE, f"{phone} is already {name}'s phone", "phone")])
        self.customer_id = customer.id


def may_see_customers(actor: Actor) -> bool:
    """Staff who sell or see sales see customers (every branch's: a customer shops anywhere)."""
    return actor.can(Permission.SELL) or actor.can(Permission.VIEW_SALES)


def require_customer_access(actor: Actor) -> None:
    require_signed_in(actor)
    if not may_see_customers(actor):
        raise AccessDenied(f"{actor.label} may not see customers")


def _cleaned(problems: Problems, values: dict[str, str | None], *, creating: bool) -> dict[str, str | None]:
    """Checked and normalised column values for the fields given (None: not given)."""
    out: dict[str, str | None] = {}
    for name, field in (("first_name", "firstName"), ("last_name", "lastName")):
        value = values.get(name)
        if value is None:
            continue
        value = value.strip()
        if len(value) > 120:
            problems.add(ErrorCode.INVALID, f"{field} must be at most 120 characters", field)
        elif name == "first_name" and not value:
            problems.add(ErrorCode.INVALID, "firstName must not be empty", field)
        out[name] = value
    if creating and "first_name" not in out and not any(p.field == "firstName" for p in problems.items):
        problems.add(ErrorCode.INVALID, "firstName must not be empty", "firstName")
    checks = (
        ("phone", "phone", normalise_phone, "not a phone number: give a Pakistani number or +country code"),
        ("cnic", "cnic", normalise_cnic, "a CNIC is 13 digits, 5-7-1 (e.g. 35202-1234567-1)"),
        ("ntn", "ntn", lambda v: v if _NTN.match(v) else None, "an NTN is 7 or 8 digits, optionally -digit"),
        ("email", "email", lambda v: v if len(v) <= 255 and _EMAIL.match(v) else None, "not an email address"),
    )
    for name, field, normalise, message in checks:
        value = values.get(name)
        if value is None:
            continue
        value = value.strip()
        if not value:
            out[name] = None
            continue
        normal = normalise(value) if len(value) <= 255 else None
        if normal is None:
            problems.add(ErrorCode.INVALID, message, field)
        out[name] = normal
    return out


async def _phone_holder(phone: str | None, except_id: int | None = None) -> Customer | None:
    if phone is None:
        return None
    query = Customer.filter(phone=phone)
    if except_id is not None:
        query = query.exclude(id=except_id)
    return await query.first()


async def _write(save, phone: str | None, except_id: int | None = None) -> Customer:
    """Run `save` in a savepoint; a phone taken meanwhile (the UNIQUE index) names its holder."""
    if (holder := await _phone_holder(phone, except_id)) is not None:
        raise CustomerExists(holder, phone)
    try:
        async with in_transaction():  # savepoint: the unique violation must not abort PostgreSQL's transaction
            return await save()
    except IntegrityError:
        if (holder := await _phone_holder(phone, except_id)) is not None:
            raise CustomerExists(holder, phone) from None
        raise


async def create_customer(actor: Actor, new: NewCustomer, idempotency_key: str) -> tuple[Customer, bool]:
    """A customer made at the counter (any branch's cashier may). Returns (customer, replayed)."""
    require(actor, Permission.SELL)
    problems = Problems()
    problems.check_key(idempotency_key)
    values = _cleaned(problems, asdict(new), creating=True)
    problems.raise_if_any()

    async def create() -> Customer:
        customer = await _write(lambda: Customer.create(**values), values.get("phone"))
        await queue_customer_create(tx, customer.id)  # Shopify hears of it once this commits
        await record_audit(
            actor,
            "customer.created",
            target=("customer", customer.id),
            phone=values.get("phone"),
            cnic=values.get("cnic"),
        )
        return customer

    async with transaction() as tx:
        return await run_once(
            tx, "createCustomer", idempotency_key, asdict(new), create, lambda pk: Customer.get(id=pk)
        )


async def update_customer(
    actor: Actor, customer_id: int, changes: CustomerChanges, idempotency_key: str
) -> tuple[Customer, bool]:
    """Change what is given; a repeat with the same key returns the customer and changes nothing."""
    require(actor, Permission.SELL)
    problems = Problems()
    problems.check_key(idempotency_key)
    values = _cleaned(problems, asdict(changes), creating=False)
    problems.raise_if_any()

    async def update() -> Customer:
        customer = await Customer.get_or_none(id=customer_id)
        if customer is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such customer", "customerId")
        before = {k: getattr(customer, k) for k in values}
        changed = {k: v for k, v in values.items() if before[k] != v}
        if changed:

            async def save() -> Customer:
                await Customer.filter(id=customer.id).update(**changed)
                return customer

            await _write(save, changed.get("phone"), customer.id)
            await record_audit(
                actor,
                "customer.updated",
                target=("customer", customer.id),
                **{f"{k}_before": before[k] for k in changed},
                **{k: v for k, v in changed.items()},
            )
        return customer

    async with transaction() as tx:
        request = asdict(changes) | {"customer_id": customer_id}
        found, replayed = await run_once(
            tx, "updateCustomer", idempotency_key, request, update, lambda pk: Customer.get(id=pk)
        )
    return await Customer.get(id=found.id), replayed


def search_filter(text: str) -> Q:
    """What `customers(search:)` matches: a phone (any form) exactly, a CNIC exactly, the digits of a
    phone in part (at least four), or every word in the name or email."""
    text = text.strip()
    if phone := normalise_phone(text):
        return Q(phone=phone)
    if cnic := normalise_cnic(text):
        return Q(cnic=cnic)
    digits = _SEPARATORS.sub("", text).lstrip("+")
    if digits.isascii() and digits.isdigit():
        if len(digits) < 4:
            return Q(id=0)  # too little to look for
        return Q(phone__contains=digits.lstrip("0")) | Q(cnic__contains=digits)
    found = Q()
    for word in text.split()[:5]:
        found &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
    return found


def customers_query(actor: Actor, search: str | None = None):
    """The customers the caller may see, matching `search` when given (a queryset to page)."""
    require_customer_access(actor)
    if search is not None and len(search) > 100:
        raise OperationError.single(ErrorCode.INVALID, "search must be at most 100 characters", "search")
    if search is None or not search.strip():
        return Customer.all()
    return Customer.filter(search_filter(search))


async def customer_for_sale(customer_id: int | None, phone: str | None, field: str) -> Customer | None:
    """The customer a sale names: by id, or by phone at the counter (found, or refused: never made here)."""
    if customer_id is not None:
        customer = await Customer.get_or_none(id=customer_id)
        if customer is None:
            raise OperationError.single(ErrorCode.NOT_FOUND, "no such customer", f"{field}.id")
        return customer
    if phone is None:
        return None
    normal = normalise_phone(phone)
    if normal is None:
        raise OperationError.single(ErrorCode.INVALID, "not a phone number", f"{field}.phone")
    customer = await Customer.get_or_none(phone=normal)
    if customer is None:
        raise OperationError.single(
            ErrorCode.NOT_FOUND, f"no customer has phone {normal}: create the customer first", f"{field}.phone"
        )
    return customer


async def sales_of_customers(
    customer_ids: list[int], *, limit: int, before_id: int | None, branch_ids: frozenset[int] | None
) -> dict[int, list[Sale]]:
    """Each customer's sales, newest first, at most `limit` of them with ids below `before_id`, at these
    branches (None: all): two queries, however many customers (a page of customers asks once)."""
    return await _latest_of_customers(Sale, "sale", customer_ids, limit, before_id, branch_ids)


async def orders_of_customers(
    customer_ids: list[int], *, limit: int, before_id: int | None, branch_ids: frozenset[int] | None
) -> dict[int, list[Order]]:
    """Each customer's online orders, as `sales_of_customers` (an order with no branch yet only when
    `branch_ids` is None)."""
    return await _latest_of_customers(Order, "online_order", customer_ids, limit, before_id, branch_ids)


async def _latest_of_customers(model, table: str, customer_ids, limit, before_id, branch_ids) -> dict[int, list]:
    if not customer_ids or (branch_ids is not None and not branch_ids):
        return {}
    conn = Tortoise.get_connection("default")
    marks = ", ".join("?" for _ in customer_ids)
    where, values = [f"customer_id IN ({marks})"], list(customer_ids)
    if before_id is not None:
        where.append("id < ?")
        values.append(before_id)
    if branch_ids is not None:
        where.append(f"branch_id IN ({', '.join('?' for _ in branch_ids)})")
        values += sorted(branch_ids)
    ranked = await fetch(
        conn,
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY id DESC) AS n"
        f" FROM {table} WHERE {' AND '.join(where)}) AS ranked WHERE n <= ?",
        [*values, limit],
    )
    found: dict[int, list] = {}
    for row in await model.filter(id__in=[r["id"] for r in ranked]).order_by("-id"):
        found.setdefault(row.customer_id, []).append(row)
    return found


async def customer_for_order(shopify_customer_id: str | None, phone: str | None) -> int | None:
    """The customer an online order is for: the one linked to its Shopify customer, else the one with its
    phone (in any form); None when nobody is (no customer is made for an order)."""
    if shopify_customer_id:
        found = await Customer.filter(shopify_customer_id=shopify_customer_id).values_list("id", flat=True)
        if found:
            return found[0]
    normal = normalise_phone(phone)
    if normal is None:
        return None
    found = await Customer.filter(phone=normal).values_list("id", flat=True)
    return found[0] if found else None
