"""Suppliers: who the retailer buys from. They serve every branch, so PURCHASE anywhere will do.

NTN is Pakistan's national tax number (7 digits and a check digit, e.g. 1234567-8; individuals
use their 13-digit CNIC): optional, but unique when given, so one supplier is not entered twice.
"""

import re
from dataclasses import asdict, dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.purchasing import Supplier
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    record_audit,
    require,
    run_once,
    transaction,
)

_NTN = re.compile(r"^[0-9][0-9-]{5,18}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewSupplier:
    name: str
    phone: str | None = None
    email: str | None = None
    ntn: str | None = None  # national tax number, e.g. 1234567-8
    idempotency_key: str | None = None


def _validate_supplier(new: NewSupplier) -> None:
    problems = Problems()
    problems.check_key(new.idempotency_key, required=False)
    if not isinstance(new.name, str) or not new.name.strip() or len(new.name) > 200:
        problems.add(ErrorCode.INVALID, "name must be 1–200 characters", "name")
    if new.phone is not None and not (1 <= len(new.phone.strip()) <= 40):
        problems.add(ErrorCode.INVALID, "phone must be 1–40 characters", "phone")
    if new.email is not None and (len(new.email) > 255 or not _EMAIL.match(new.email.strip())):
        problems.add(ErrorCode.INVALID, "email is not an email address", "email")
    if new.ntn is not None and not _NTN.match(new.ntn.strip()):
        problems.add(ErrorCode.INVALID, "ntn is digits (and dashes), e.g. 1234567-8", "ntn")
    problems.raise_if_any()


async def create_supplier(actor: Actor, new: NewSupplier) -> tuple[Supplier, bool]:
    """Returns (supplier, replayed). Suppliers serve every branch: PURCHASE anywhere will do."""
    require(actor, Permission.PURCHASE)
    _validate_supplier(new)
    ntn = new.ntn.strip() if new.ntn else None

    async def create() -> Supplier:
        if ntn and await Supplier.exists(ntn=ntn):
            raise OperationError.single(ErrorCode.DUPLICATE, f"a supplier with NTN {ntn} exists already", "ntn")
        try:
            async with in_transaction():  # savepoint: a racing duplicate NTN is a typed error
                supplier = await Supplier.create(
                    name=new.name.strip(),
                    phone=new.phone.strip() if new.phone else None,
                    email=new.email.strip() if new.email else None,
                    ntn=ntn,
                )
        except IntegrityError:
            raise OperationError.single(
                ErrorCode.DUPLICATE, f"a supplier with NTN {ntn} exists already", "ntn"
            ) from None
        await record_audit(actor, "supplier.created", target=("supplier", supplier.id), name=supplier.name)
        return supplier

    request = asdict(new) | {"idempotency_key": None}
    async with transaction() as tx:
        return await run_once(
            tx, "createSupplier", new.idempotency_key, request, create, lambda pk: Supplier.get(id=pk)
        )
