"""Pricing, settlement and returns: hand-computed cases plus properties that every total adds up to the paisa."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operations.counter.pricing import (
    PricedLine,
    PriceLine,
    Tender,
    TenderType,
    price_sale,
    refund_for,
    settle,
)
from operations.kernel.errors import ErrorCode, OperationError

CASH, CARD, BANK = TenderType.CASH, TenderType.CARD, TenderType.BANK


def line(price: str, qty: int = 1, rate: str = "18.00", discount: str = "0") -> PriceLine:
    return PriceLine(D(price), qty, D(rate), D(discount))


def fields(error: OperationError) -> list[str | None]:
    assert all(p.code == ErrorCode.INVALID for p in error.problems)
    return [p.field for p in error.problems]


# --- single lines: (line, tax_inclusive, expected net, tax, total) --------------------------------


@pytest.mark.parametrize(
    ("priced", "inclusive", "net", "tax", "total"),
    [
        (line("1180.00"), True, "1000.00", "180.00", "1180.00"),
        (line("1000.00"), False, "1000.00", "180.00", "1180.00"),
        # 999.99 * 0.17 = 169.9983
        (line("333.33", 3, "17"), False, "999.99", "170.00", "1169.99"),
        # 999.99 * 17 / 117 = 145.2977
        (line("333.33", 3, "17"), True, "854.69", "145.30", "999.99"),
        (line("250.00", 2, "0"), True, "500.00", "0.00", "500.00"),
        (line("250.00", 2, "0"), False, "500.00", "0.00", "500.00"),
        (line("0.00", 5), True, "0.00", "0.00", "0.00"),
        # line discounts, in the sale's tax basis: 1180 - 180 = 1000 incl. -> tax 1000*18/118 = 152.542
        (line("590.00", 2, discount="180.00"), True, "847.46", "152.54", "1000.00"),
        (line("500.00", 2, discount="100.00"), False, "900.00", "162.00", "1062.00"),
        (line("500.00", 2, discount="1000.00"), False, "0.00", "0.00", "0.00"),
        # half-up at exactly half a paisa (half-even would go down in each case)
        (line("0.50", rate="1"), False, "0.50", "0.01", "0.51"),  # 0.005
        (line("0.05", rate="100"), True, "0.02", "0.03", "0.05"),  # 0.025
        (line("1.50", rate="17"), False, "1.50", "0.26", "1.76"),  # 0.255
        (line("0.45", rate="1"), False, "0.45", "0.00", "0.45"),  # 0.0045 stays down
        (line("100.00", rate="100"), False, "100.00", "100.00", "200.00"),
    ],
)
def test_single_line(priced, inclusive, net, tax, total):
    sale = price_sale([priced], tax_inclusive=inclusive)
    (out,) = sale.lines
    assert (out.net, out.tax, out.total) == (D(net), D(tax), D(total))
    assert out.gross == priced.unit_price * priced.quantity
    assert out.line_discount == priced.line_discount and out.order_discount == 0
    assert (sale.net_total, sale.tax_total, sale.total) == (out.net, out.tax, out.total)
    assert sale.discount_total == priced.line_discount
    assert str(out.total).endswith(total[-3:])  # always two places, e.g. "0.00" not "0"


def test_tax_is_rounded_per_line_not_per_invoice():
    # Three separate 0.005 taxes round up to 0.01 each (0.03), as FBR reports them per line;
    # rounding the invoice's 0.015 once would give 0.02 and disagree with the lines.
    sale = price_sale([line("0.50", rate="1")] * 3, tax_inclusive=False)
    assert [x.tax for x in sale.lines] == [D("0.01")] * 3
    assert sale.tax_total == D("0.03") and sale.total == D("1.53")


# --- order discount: (lines, order discount, expected shares) --------------------------------------


@pytest.mark.parametrize(
    ("lines", "discount", "shares"),
    [
        ([line("100.00", rate="0")] * 3, "100.00", ["33.34", "33.33", "33.33"]),
        ([line("50.00"), line("30.00"), line("20.00")], "10.01", ["5.01", "3.00", "2.00"]),
        # 1/3 and 2/3 of a paisa: the leftover paisa goes to the larger remainder, not the first line
        ([line("10.00"), line("20.00")], "0.01", ["0.00", "0.01"]),
        # proportional to the amount AFTER line discounts: 100 and 300
        ([line("100.00", 2, discount="100.00"), line("300.00")], "40.00", ["10.00", "30.00"]),
        ([line("100.00", discount="100.00"), line("300.00")], "300.00", ["0.00", "300.00"]),
        ([line("0.01")] * 7, "0.03", ["0.01", "0.01", "0.01", "0.00", "0.00", "0.00", "0.00"]),
        ([line("10.00")] * 2, "0", ["0.00", "0.00"]),
    ],
)
def test_order_discount_split_by_largest_remainder(lines, discount, shares):
    sale = price_sale(lines, order_discount=D(discount), tax_inclusive=False)
    assert [x.order_discount for x in sale.lines] == [D(s) for s in shares]
    assert sum(x.order_discount for x in sale.lines) == D(discount)
    assert sale.net_total == sale.subtotal - sale.discount_total


def test_order_discount_with_inclusive_tax_and_mixed_rates():
    sale = price_sale([line("1180.00"), line("500.00", rate="0")], order_discount=D("168.00"))
    a, b = sale.lines
    assert (a.order_discount, a.net, a.tax, a.total) == (D("118.00"), D("900.00"), D("162.00"), D("1062.00"))
    assert (b.order_discount, b.net, b.tax, b.total) == (D("50.00"), D("450.00"), D("0.00"), D("450.00"))
    assert (sale.subtotal, sale.discount_total, sale.total) == (D("1680.00"), D("168.00"), D("1512.00"))
    assert sale.tax_by_rate == {D(0): (D("450.00"), D("0.00")), D(18): (D("900.00"), D("162.00"))}


def test_tax_by_rate_groups_equal_rates_in_ascending_order():
    lines = [line("100.00"), line("50.00", 2, "18"), line("200.00", rate="5"), line("10.00", rate="0")]
    sale = price_sale(lines, tax_inclusive=False)
    assert list(sale.tax_by_rate) == [D(0), D(5), D(18)]
    assert sale.tax_by_rate[D("18.00")] == (D("200.00"), D("36.00"))
    assert sale.tax_by_rate[D(5)] == (D("200.00"), D("10.00"))
    assert (sale.subtotal, sale.net_total, sale.tax_total, sale.total) == tuple(
        D(x) for x in ("410.00", "410.00", "46.00", "456.00")
    )


def test_other_minor_unit():
    sale = price_sale([line("118", rate="18")], unit=D("1"))
    assert (sale.lines[0].net, sale.lines[0].tax) == (D("100"), D("18"))


# --- validation: every problem, by field path -------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "order_discount", "expected"),
    [
        ([], "0", ["lines"]),
        ([line("10.00", 0)], "0", ["lines.0.quantity"]),
        ([line("10.00", 100_001)], "0", ["lines.0.quantity"]),
        ([line("10.00", True)], "0", ["lines.0.quantity"]),
        ([line("-0.01")], "0", ["lines.0.unitPrice"]),
        ([line("1.005")], "0", ["lines.0.unitPrice"]),
        ([line("NaN")], "0", ["lines.0.unitPrice"]),
        ([line("1.00", rate="-1")], "0", ["lines.0.taxRate"]),
        ([line("1.00", rate="100.01")], "0", ["lines.0.taxRate"]),
        ([line("1.00", discount="-0.01")], "0", ["lines.0.discount"]),
        ([line("1.00", discount="0.001")], "0", ["lines.0.discount"]),
        ([line("1.00", 2, discount="2.01")], "0", ["lines.0.discount"]),
        ([line("1.00")], "-1.00", ["orderDiscount"]),
        ([line("1.00")], "0.001", ["orderDiscount"]),
        ([line("100.00", discount="40.00"), line("10.00")], "70.01", ["orderDiscount"]),
        (
            [line("1.00", 0), line("1.00"), line("-1.00", rate="101"), line("1.00", discount="5.00")],
            "-1",
            ["lines.0.quantity", "lines.2.unitPrice", "lines.2.taxRate", "lines.3.discount", "orderDiscount"],
        ),
    ],
)
def test_validation_lists_every_problem(lines, order_discount, expected):
    with pytest.raises(OperationError) as caught:
        price_sale(lines, order_discount=D(order_discount))
    assert fields(caught.value) == expected


@pytest.mark.parametrize(
    ("ok", "net", "tax"),
    [
        (line("1.00", 100_000), "84745.76", "15254.24"),  # the most units a line may have; 100,000 / 1.18
        (line("0.00"), "0.00", "0.00"),  # free
        (line("1.00", rate="100"), "0.50", "0.50"),  # the highest rate: half of an inclusive price is tax
        (line("1.00", rate="0"), "1.00", "0.00"),
    ],
)
def test_validation_boundaries_accepted(ok, net, tax):
    gross = ok.unit_price * ok.quantity
    [priced] = price_sale([ok]).lines
    assert (priced.quantity, priced.gross, priced.net, priced.tax, priced.total) == (
        ok.quantity,
        gross,
        D(net),
        D(tax),
        gross,
    )
    # And the largest order discount: all of it, leaving nothing to pay and no tax.
    discounted = price_sale([ok], order_discount=gross)
    [free] = discounted.lines
    assert (free.order_discount, free.net, free.tax, free.total) == (gross, 0, 0, 0)
    assert (discounted.total, discounted.discount_total) == (0, gross)
    assert discounted.tax_by_rate == {ok.tax_rate: (0, 0)}


# --- settlement --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "tenders", "paid", "change", "cash_taken"),
    [
        ("1000.00", [(CASH, "1000.00")], "1000.00", "0.00", "1000.00"),
        ("1180.00", [(CASH, "1500.00")], "1500.00", "320.00", "1180.00"),
        ("2500.00", [(CARD, "2000.00"), (CASH, "1000.00")], "3000.00", "500.00", "500.00"),
        ("2500.00", [(CASH, "500.00"), (CASH, "2100.00")], "2600.00", "100.00", "2500.00"),
        ("300.00", [(CARD, "100.00"), (BANK, "200.00")], "300.00", "0.00", "0.00"),
        ("0.00", [], "0.00", "0.00", "0.00"),
    ],
)
def test_settle(total, tenders, paid, change, cash_taken):
    given_tenders = [Tender(t, D(a), "ref" if t != CASH else None) for t, a in tenders]
    result = settle(D(total), given_tenders)
    assert (result.paid, result.change_due, result.cash_taken) == (D(paid), D(change), D(cash_taken))
    assert result.tenders == given_tenders
    assert result.paid - result.change_due == D(total)


@pytest.mark.parametrize(
    ("total", "tenders", "expected", "message"),
    [
        ("1000.00", [(CASH, "850.00")], ["tenders"], "short by 150.00"),
        ("1000.00", [(CARD, "500.00"), (CASH, "499.99")], ["tenders"], "short by 0.01"),
        ("1000.00", [(CARD, "1200.00")], ["tenders"], "only cash can be overpaid"),
        ("1000.00", [(CARD, "800.00"), (BANK, "300.00"), (CASH, "50.00")], ["tenders"], "(1100.00) exceed"),
        ("1000.00", [], ["tenders"], "at least one tender"),
        (
            "1000.00",
            [(CASH, "0"), (CARD, "-5.00"), (CASH, "1000.00"), (BANK, "0.001")],
            ["tenders.0.amount", "tenders.1.amount", "tenders.3.amount"],
            "more than 0",
        ),
    ],
)
def test_settle_refused(total, tenders, expected, message):
    with pytest.raises(OperationError) as caught:
        settle(D(total), [Tender(t, D(a)) for t, a in tenders])
    assert fields(caught.value) == expected
    assert message in str(caught.value)


# --- returns -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priced", "inclusive", "steps", "expected"),
    [
        # net 100.00 over 3 units: cumulative 33.33, 66.67, 100.00; discount 20.00: 6.67, 13.33, 20.00
        (
            line("40.00", 3, "0", "20.00"),
            False,
            [1, 1, 1],
            [("33.33", "0", "6.67"), ("33.34", "0", "6.66"), ("33.33", "0", "6.67")],
        ),
        (line("40.00", 3, "0", "20.00"), False, [2, 1], [("66.67", "0", "13.33"), ("33.33", "0", "6.67")]),
        # 336.00 incl. 18%: tax 51.25, net 284.75
        (
            line("118.00", 3, "18", "18.00"),
            True,
            [1, 1, 1],
            [("94.92", "17.08", "6.00"), ("94.91", "17.09", "6.00"), ("94.92", "17.08", "6.00")],
        ),
        (line("118.00", 3, "18", "18.00"), True, [3], [("284.75", "51.25", "18.00")]),
    ],
)
def test_partial_returns_sum_to_the_line(priced, inclusive, steps, expected):
    sold = price_sale([priced], tax_inclusive=inclusive).lines[0]
    shares, done = [], 0
    for q in steps:
        shares.append(refund_for(sold, q, already_returned=done))
        done += q
    assert [(s.net, s.tax, s.discount) for s in shares] == [tuple(D(x) for x in e) for e in expected]
    assert all(s.total == s.net + s.tax for s in shares)
    assert [s.quantity for s in shares] == steps
    assert sum(s.total for s in shares) == sold.total
    assert sum(s.discount for s in shares) == sold.line_discount + sold.order_discount


@pytest.mark.parametrize(
    ("quantity", "already", "message"),
    [(2, 2, "only 1 left to return"), (1, 3, "only 0 left to return"), (4, 0, "only 3 left"), (0, 0, "at least 1")],
)
def test_over_return_refused(quantity, already, message):
    sold = price_sale([line("10.00", 3)]).lines[0]
    with pytest.raises(OperationError) as caught:
        refund_for(sold, quantity, already_returned=already)
    assert fields(caught.value) == ["quantity"]
    assert message in str(caught.value)


# --- properties -----------------------------------------------------------------------------------


def cents(n: int) -> D:
    return D(n).scaleb(-2)


@st.composite
def sales(draw):
    n = draw(st.integers(1, 5))
    lines = []
    for _ in range(n):
        qty = draw(st.integers(1, 40))
        price = draw(st.integers(0, 1_000_000))  # paisa
        rate = draw(
            st.sampled_from(["0", "5", "16", "17", "18", "25", "100"]).map(D) | st.integers(0, 10_000).map(cents)
        )
        discount = draw(st.integers(0, price * qty))
        lines.append(PriceLine(cents(price), qty, rate, cents(discount)))
    room = sum(x.unit_price * x.quantity - x.line_discount for x in lines)
    order_discount = cents(draw(st.integers(0, int(room * 100))))
    return lines, order_discount, draw(st.booleans())


@settings(deadline=None)  # examples: the loaded profile (tests/conftest.py)
@given(sale=sales())
def test_sale_totals_add_up_exactly(sale):
    lines, order_discount, inclusive = sale
    s = price_sale(lines, order_discount=order_discount, tax_inclusive=inclusive)
    assert sum(x.order_discount for x in s.lines) == order_discount
    for src, x in zip(lines, s.lines, strict=True):
        assert (x.gross, x.line_discount) == (src.unit_price * src.quantity, src.line_discount)
        assert x.total == x.net + x.tax and min(x.net, x.tax, x.order_discount) >= 0
        after = x.gross - x.line_discount - x.order_discount
        assert (x.total if inclusive else x.net) == after
    assert s.total == s.net_total + s.tax_total == sum(x.total for x in s.lines)
    assert s.discount_total == order_discount + sum(x.line_discount for x in lines)
    assert sum(n for n, _ in s.tax_by_rate.values()) == s.net_total
    assert sum(t for _, t in s.tax_by_rate.values()) == s.tax_total


@settings(deadline=None)  # examples: the loaded profile (tests/conftest.py)
@given(sale=sales(), data=st.data())
def test_all_returns_refund_exactly_the_line(sale, data):
    lines, order_discount, inclusive = sale
    sold: PricedLine = data.draw(
        st.sampled_from(price_sale(lines, order_discount=order_discount, tax_inclusive=inclusive).lines)
    )
    done, shares = 0, []
    while done < sold.quantity:
        q = data.draw(st.integers(1, sold.quantity - done))
        shares.append(refund_for(sold, q, already_returned=done))
        assert shares[-1] == refund_for(sold, q, already_returned=done)  # depends only on the arguments
        done += q
    assert all(min(s.net, s.tax, s.total, s.discount) >= 0 and s.total == s.net + s.tax for s in shares)
    assert sum(s.net for s in shares) == sold.net
    assert sum(s.tax for s in shares) == sold.tax
    assert sum(s.total for s in shares) == sold.total
    assert sum(s.discount for s in shares) == sold.line_discount + sold.order_discount
    with pytest.raises(OperationError) as over:
        refund_for(sold, 1, already_returned=done)
    assert fields(over.value) == ["quantity"]
