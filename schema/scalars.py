"""`Decimal`, the scalar every amount, price and rate comes in as, refusing what is not an amount.

Python's Decimal reads "NaN", "Infinity" and "1e400" (JSON's 1e400 arrives as float infinity), and
a 400-digit number; each of them got past the resolvers to fail later in arithmetic, a comparison
or the database as "Unexpected error.". Refused here, every Decimal input anywhere in the schema
gets the same typed answer (BAD_USER_INPUT). Messages never repeat the value: it may be a secret
sent in the wrong field.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import (
    EnumValueNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)
from strawberry.types.scalar import ScalarDefinition

# Far above any column (money is 14 digits with 2 or 4 places, rates 5 with 2), and small enough that
# arithmetic in the default 28-digit context stays exact. The operations check the real ranges.
MAX_INTEGER_DIGITS = 15
MAX_PLACES = 12
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")


def _refuse(message: str, node: ValueNode | None = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"})


NOT_A_NUMBER = 'not a Decimal: send a number or a string such as "4500.00"'
NOT_FINITE = "not a Decimal: NaN and Infinity are not amounts"
TOO_LARGE = f"too large for a Decimal: at most {MAX_INTEGER_DIGITS} digits before the decimal point"
TOO_PRECISE = f"too precise for a Decimal: at most {MAX_PLACES} decimal places"


def _places(value: Decimal) -> int:
    """Decimal places that matter: 1.50 has one; computed without rounding to the context precision."""
    _, digits, exponent = value.as_tuple()
    if not any(digits):
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0") or "0")
    return max(0, -(exponent + trailing_zeros))


def parse_decimal(value: Any, node: ValueNode | None = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _refuse(NOT_A_NUMBER, node)
    text = value if isinstance(value, str) else repr(value)
    if text.strip().lower().lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        raise _refuse(NOT_FINITE, node)
    if not _NUMBER.fullmatch(text):
        raise _refuse(NOT_A_NUMBER, node)
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise _refuse(NOT_A_NUMBER, node) from None
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise _refuse(TOO_LARGE, node)
    if _places(number) > MAX_PLACES:
        raise _refuse(TOO_PRECISE, node)
    return number


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    if isinstance(node, IntValueNode | FloatValueNode | StringValueNode | EnumValueNode):  # enum: NaN, Infinity
        return parse_decimal(node.value, node)
    if isinstance(node, VariableNode) and variables and node.name.value in variables:
        return parse_decimal(variables[node.name.value], node)
    raise _refuse(NOT_A_NUMBER, node)


# Same name and description as Strawberry's own Decimal, so the exported SDL does not change.
DecimalScalar = ScalarDefinition(
    name="Decimal",
    description="Decimal (fixed-point)",
    specified_by_url=None,
    serialize=str,
    parse_value=parse_decimal,
    parse_literal=parse_decimal_literal,
    origin=Decimal,
)

SCALARS = {Decimal: DecimalScalar}
