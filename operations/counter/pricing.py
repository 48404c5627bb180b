"""Counter money: pricing a sale, settling it with tenders, and refunding returns. Pure functions.

Everything is `Decimal` in the currency's minor unit (PKR: 0.01), rounded ROUND_HALF_UP. Internally
amounts are converted to whole minor units (ints) and ratios are exact `Fraction`s, so the only
rounding is the one explicit half-up step per value — no binary floats, no context-precision
surprises on large amounts.

Why the numbers always add up to the paisa:

- Tax is rounded PER LINE, not on the invoice total: FBR invoices report tax per item, so the
  receipt, the FBR submission and our books must carry the same rounded line values. Sale totals
  are then plain sums of those rounded line values, never re-rounded.
- The order discount is split across lines by the largest-remainder method: each line gets the
  floor of its proportional share, and the few leftover paisas go to the lines with the largest
  dropped fractions. Rounding each share independently could make the shares sum to a paisa more
  or less than the discount the cashier typed.
- Returns are pro-rated cumulatively: units `already+1 .. already+q` get
  `round(v·(already+q)/n) − round(v·already/n)`. Summed over any sequence of returns this
  telescopes to `round(v·n/n) = v`, so all returns of a line refund exactly what was charged,
  whatever the order and sizes of the returns, and the result depends only on the arguments.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from operations.kernel import ErrorCode, OperationError, Problems

PKR = Decimal("0.01")
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class PriceLine:
    unit_price: Decimal  # per unit, tax-inclusive or exclusive per the sale's setting
    quantity: int
    tax_rate: Decimal  # percent, e.g. Decimal("18.00")
    line_discount: Decimal = Decimal(0)  # amount off the whole line, same tax basis as unit_price


@dataclass(frozen=True)
class PricedLine:
    quantity: int
    unit_price: Decimal
    gross: Decimal  # unit_price * quantity
    line_discount: Decimal
    order_discount: Decimal  # this line's share of the order discount
    net: Decimal  # excluding tax, after all discounts
    tax: Decimal
    total: Decimal  # what the customer pays for this line = net + tax


@dataclass(frozen=True)
class PricedSale:
    lines: list[PricedLine]
    subtotal: Decimal  # sum of gross (in the sale's tax basis)
    discount_total: Decimal  # line + order discounts
    net_total: Decimal
    tax_total: Decimal
    total: Decimal  # sum of line totals == net_total + tax_total exactly
    tax_by_rate: dict[Decimal, tuple[Decimal, Decimal]]  # rate -> (net, tax), ascending by rate


class TenderType(StrEnum):
    CASH = "cash"
    CARD = "card"
    BANK = "bank"  # bank transfer / mobile wallet
    LOYALTY = "loyalty"  # loyalty points, at the retailer's point value


@dataclass(frozen=True)
class Tender:
    type: TenderType
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class Settlement:
    tenders: list[Tender]
    paid: Decimal
    change_due: Decimal
    cash_taken: Decimal  # cash kept in the drawer = cash tendered − change


@dataclass(frozen=True)
class ReturnedShare:
    quantity: int
    net: Decimal
    tax: Decimal
    total: Decimal  # net + tax, so a refund receipt adds up like the sale's did
    discount: Decimal


# --- minor-unit arithmetic ---------------------------------------------------------------------


def _check_unit(unit: Decimal) -> None:
    if not (isinstance(unit, Decimal) and unit.is_finite() and unit > 0):
        raise ValueError(f"unit must be a positive Decimal, got {unit!r}")


def _is_amount(value: object, unit: Decimal) -> bool:
    """A finite Decimal that is a whole number of `unit`s (sign is checked by the caller)."""
    return isinstance(value, Decimal) and value.is_finite() and (Fraction(value) / Fraction(unit)).denominator == 1


def _units(amount: Decimal, unit: Decimal) -> int:
    return int(Fraction(amount) / Fraction(unit))  # exact: callers validated `amount` first


def _money(units: int, unit: Decimal) -> Decimal:
    return (Decimal(units) * unit).quantize(unit)


def _half_up(x: Fraction) -> int:
    """Round to a whole number, halves away from zero (ROUND_HALF_UP), exactly."""
    rounded = math.floor(abs(x) + Fraction(1, 2))
    return rounded if x >= 0 else -rounded


def _split(total: int, weights: list[int]) -> list[int]:
    """Largest remainder: integer shares proportional to `weights` summing exactly to `total`.

    Ties on the remainder go to the earlier line, so the split is deterministic. A zero weight never
    gets a share, and with total <= sum(weights) no share exceeds its weight.
    """
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    leftover = total - sum(shares)  # < len(weights): each floor dropped less than one unit
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
        shares[i] += 1
    return shares


# --- pricing -----------------------------------------------------------------------------------


def _validate_line(i: int, line: PriceLine, unit: Decimal, problems: Problems) -> int | None:
    """Record the line's problems; return its amount after the line discount in units, if valid."""
    where, before = f"lines.{i}", len(problems.items)
    q = line.quantity
    if not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= MAX_QUANTITY:
        problems.add(
            ErrorCode.INVALID, f"quantity must be a whole number from 1 to {MAX_QUANTITY:,}", f"{where}.quantity"
        )
    if not _is_amount(line.unit_price, unit) or line.unit_price < 0:
        problems.add(ErrorCode.INVALID, f"unitPrice must be 0 or more, in steps of {unit}", f"{where}.unitPrice")
    rate = line.tax_rate
    if not (isinstance(rate, Decimal) and rate.is_finite() and 0 <= rate <= 100):
        problems.add(ErrorCode.INVALID, "taxRate must be a percentage from 0 to 100", f"{where}.taxRate")
    if not _is_amount(line.line_discount, unit) or line.line_discount < 0:
        problems.add(ErrorCode.INVALID, f"discount must be 0 or more, in steps of {unit}", f"{where}.discount")
    elif len(problems.items) == before:
        gross = _units(line.unit_price, unit) * q
        if _units(line.line_discount, unit) > gross:
            msg = f"discount must not exceed the line amount {_money(gross, unit)}"
            problems.add(ErrorCode.INVALID, msg, f"{where}.discount")
        else:
            return gross - _units(line.line_discount, unit)
    return None


def price_sale(
    lines: list[PriceLine], *, order_discount: Decimal = Decimal(0), tax_inclusive: bool = True, unit: Decimal = PKR
) -> PricedSale:
    """Price a counter sale. Raises OperationError listing every problem in the input."""
    _check_unit(unit)
    problems = Problems()
    if not lines:
        problems.add(ErrorCode.INVALID, "a sale needs at least one line", "lines")
    amounts = [_validate_line(i, line, unit, problems) for i, line in enumerate(lines)]
    if not _is_amount(order_discount, unit) or order_discount < 0:
        problems.add(ErrorCode.INVALID, f"orderDiscount must be 0 or more, in steps of {unit}", "orderDiscount")
    elif lines and None not in amounts and _units(order_discount, unit) > sum(amounts):
        msg = f"orderDiscount must not exceed the amount after line discounts {_money(sum(amounts), unit)}"
        problems.add(ErrorCode.INVALID, msg, "orderDiscount")
    problems.raise_if_any()

    weights = [a or 0 for a in amounts]  # all valid by now; `or 0` only narrows the type
    shares = _split(_units(order_discount, unit), weights)
    priced: list[PricedLine] = []
    by_rate: dict[Decimal, tuple[int, int]] = {}
    for line, weight, share in zip(lines, weights, shares, strict=True):
        amount = weight - share
        rate = Fraction(line.tax_rate)
        if tax_inclusive:  # the shelf price already contains the tax: carve it out
            tax = _half_up(amount * rate / (100 + rate))
            net = amount - tax
        else:
            net = amount
            tax = _half_up(net * rate / 100)
        n, t = by_rate.get(line.tax_rate, (0, 0))  # 18 and 18.00 are equal keys: one rate, first spelling kept
        by_rate[line.tax_rate] = (n + net, t + tax)
        priced.append(
            PricedLine(
                quantity=line.quantity,
                unit_price=line.unit_price.quantize(unit),
                gross=_money(_units(line.unit_price, unit) * line.quantity, unit),
                line_discount=line.line_discount.quantize(unit),
                order_discount=_money(share, unit),
                net=_money(net, unit),
                tax=_money(tax, unit),
                total=_money(net + tax, unit),
            )
        )

    def total(attr: str) -> Decimal:
        return sum((getattr(p, attr) for p in priced), _money(0, unit))

    return PricedSale(
        lines=priced,
        subtotal=total("gross"),
        discount_total=total("line_discount") + total("order_discount"),
        net_total=total("net"),
        tax_total=total("tax"),
        total=total("total"),
        tax_by_rate={r: (_money(n, unit), _money(t, unit)) for r, (n, t) in sorted(by_rate.items())},
    )


# --- settlement --------------------------------------------------------------------------------


def settle(total: Decimal, tenders: list[Tender], *, unit: Decimal = PKR) -> Settlement:
    """Check the tenders cover `total` and work out the change, which only cash can produce."""
    _check_unit(unit)
    if not _is_amount(total, unit) or total < 0:  # comes from price_sale, not from the cashier
        raise ValueError(f"total must be a non-negative amount in steps of {unit}, got {total!r}")
    problems = Problems()
    if total > 0 and not tenders:
        problems.add(ErrorCode.INVALID, "add at least one tender", "tenders")
    for i, tender in enumerate(tenders):
        if not _is_amount(tender.amount, unit) or tender.amount <= 0:
            problems.add(ErrorCode.INVALID, f"amount must be more than 0, in steps of {unit}", f"tenders.{i}.amount")
    problems.raise_if_any()

    total_u = _units(total, unit)
    cash = sum(_units(t.amount, unit) for t in tenders if t.type == TenderType.CASH)
    other = sum(_units(t.amount, unit) for t in tenders if t.type != TenderType.CASH)
    paid = cash + other
    if paid < total_u:
        msg = f"short by {_money(total_u - paid, unit)}: paid {_money(paid, unit)} of {_money(total_u, unit)}"
        raise OperationError.single(ErrorCode.INVALID, msg, "tenders")
    # Change comes out of the drawer, so it can only be owed against cash. Card and bank amounts
    # are charged as entered and never overpaid. With other <= total, change <= cash follows.
    if other > total_u:
        msg = f"card, bank and loyalty tenders ({_money(other, unit)}) exceed the total {_money(total_u, unit)}"
        raise OperationError.single(ErrorCode.INVALID, msg + "; only cash can be overpaid", "tenders")
    change = paid - total_u
    return Settlement(
        tenders=list(tenders),
        paid=_money(paid, unit),
        change_due=_money(change, unit),
        cash_taken=_money(cash - change, unit),
    )


# --- returns -----------------------------------------------------------------------------------


def refund_for(line: PricedLine, quantity: int, *, already_returned: int, unit: Decimal = PKR) -> ReturnedShare:
    """What to refund for `quantity` more units of `line`, `already_returned` having come back before.

    Net, tax and discount are each pro-rated cumulatively (see the module docstring), so the last
    return gets exactly what is left; total is net + tax, so it also sums exactly to line.total and,
    unlike a separately rounded total, every share stays >= 0.
    """
    _check_unit(unit)
    if not 0 <= already_returned <= line.quantity:
        raise ValueError(f"already_returned must be 0..{line.quantity}, got {already_returned}")
    left = line.quantity - already_returned
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise OperationError.single(ErrorCode.INVALID, "quantity must be at least 1", "quantity")
    if quantity > left:
        raise OperationError.single(ErrorCode.INVALID, f"only {left} left to return", "quantity")
    after = already_returned + quantity

    def share(value: Decimal) -> int:
        v = _units(value, unit)
        return _half_up(Fraction(v * after, line.quantity)) - _half_up(Fraction(v * already_returned, line.quantity))

    net, tax = share(line.net), share(line.tax)
    return ReturnedShare(
        quantity=quantity,
        net=_money(net, unit),
        tax=_money(tax, unit),
        total=_money(net + tax, unit),
        discount=_money(share(line.line_discount + line.order_discount), unit),
    )
