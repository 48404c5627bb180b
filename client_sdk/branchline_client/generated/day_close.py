from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import MoneyFields, TenderTotalsFields


class DayClose(BaseModel):
    day_close: "DayCloseDayClose" = Field(alias="dayClose")


class DayCloseDayClose(BaseModel):
    sales_total: "DayCloseDayCloseSalesTotal" = Field(alias="salesTotal")
    refunded_total: "DayCloseDayCloseRefundedTotal" = Field(alias="refundedTotal")
    over_short: "DayCloseDayCloseOverShort" = Field(alias="overShort")
    cash_to_bank: "DayCloseDayCloseCashToBank" = Field(alias="cashToBank")
    registers: list["DayCloseDayCloseRegisters"]


DayCloseDayCloseSalesTotal = MoneyFields
DayCloseDayCloseRefundedTotal = MoneyFields
DayCloseDayCloseOverShort = MoneyFields
DayCloseDayCloseCashToBank = MoneyFields


class DayCloseDayCloseRegisters(BaseModel):
    final: bool
    opened_at: datetime = Field(alias="openedAt")
    opened_by_name: str = Field(alias="openedByName")
    closed_at: Optional[datetime] = Field(alias="closedAt")
    closed_by_name: Optional[str] = Field(alias="closedByName")
    opening_float: "DayCloseDayCloseRegistersOpeningFloat" = Field(alias="openingFloat")
    sales_count: int = Field(alias="salesCount")
    gross_sales: "DayCloseDayCloseRegistersGrossSales" = Field(alias="grossSales")
    discounts: "DayCloseDayCloseRegistersDiscounts"
    tax: "DayCloseDayCloseRegistersTax"
    sales_total: "DayCloseDayCloseRegistersSalesTotal" = Field(alias="salesTotal")
    voided_count: int = Field(alias="voidedCount")
    voided_total: "DayCloseDayCloseRegistersVoidedTotal" = Field(alias="voidedTotal")
    returns_count: int = Field(alias="returnsCount")
    refunded_total: "DayCloseDayCloseRegistersRefundedTotal" = Field(
        alias="refundedTotal"
    )
    sales_by_tender: "DayCloseDayCloseRegistersSalesByTender" = Field(
        alias="salesByTender"
    )
    refunds_by_tender: "DayCloseDayCloseRegistersRefundsByTender" = Field(
        alias="refundsByTender"
    )
    cash_sales: "DayCloseDayCloseRegistersCashSales" = Field(alias="cashSales")
    cash_refunds: "DayCloseDayCloseRegistersCashRefunds" = Field(alias="cashRefunds")
    cash_in: "DayCloseDayCloseRegistersCashIn" = Field(alias="cashIn")
    cash_out: "DayCloseDayCloseRegistersCashOut" = Field(alias="cashOut")
    expected_cash: "DayCloseDayCloseRegistersExpectedCash" = Field(alias="expectedCash")
    counted_cash: Optional["DayCloseDayCloseRegistersCountedCash"] = Field(
        alias="countedCash"
    )
    over_short: Optional["DayCloseDayCloseRegistersOverShort"] = Field(
        alias="overShort"
    )
    counter: "DayCloseDayCloseRegistersCounter"
    branch: "DayCloseDayCloseRegistersBranch"


DayCloseDayCloseRegistersOpeningFloat = MoneyFields
DayCloseDayCloseRegistersGrossSales = MoneyFields
DayCloseDayCloseRegistersDiscounts = MoneyFields
DayCloseDayCloseRegistersTax = MoneyFields
DayCloseDayCloseRegistersSalesTotal = MoneyFields
DayCloseDayCloseRegistersVoidedTotal = MoneyFields
DayCloseDayCloseRegistersRefundedTotal = MoneyFields
DayCloseDayCloseRegistersSalesByTender = TenderTotalsFields
DayCloseDayCloseRegistersRefundsByTender = TenderTotalsFields
DayCloseDayCloseRegistersCashSales = MoneyFields
DayCloseDayCloseRegistersCashRefunds = MoneyFields
DayCloseDayCloseRegistersCashIn = MoneyFields
DayCloseDayCloseRegistersCashOut = MoneyFields
DayCloseDayCloseRegistersExpectedCash = MoneyFields
DayCloseDayCloseRegistersCountedCash = MoneyFields
DayCloseDayCloseRegistersOverShort = MoneyFields


class DayCloseDayCloseRegistersCounter(BaseModel):
    id: str
    code: str


class DayCloseDayCloseRegistersBranch(BaseModel):
    id: str
    code: str


DayClose.model_rebuild()
DayCloseDayClose.model_rebuild()
DayCloseDayCloseRegisters.model_rebuild()
