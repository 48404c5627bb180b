from typing import Annotated, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .fragments import (  # noqa: F401
    StockLevelFields,
    VariantFields,
    VariantFieldsPrice,
    VariantFieldsProduct,
)


class VariantStock(BaseModel):
    node: Optional[
        Annotated[
            Union["VariantStockNodeNode", "VariantStockNodeVariant"],
            Field(discriminator="typename__"),
        ]
    ]


class VariantStockNodeNode(BaseModel):
    typename__: Literal[
        "AuditEntry",
        "Branch",
        "CashMovement",
        "Counter",
        "Customer",
        "GoodsReceipt",
        "Node",
        "Order",
        "OrderExchange",
        "OrderFulfillment",
        "OrderLine",
        "Product",
        "PurchaseOrder",
        "Register",
        "Sale",
        "SaleReturn",
        "Staff",
        "StockCount",
        "StockLevel",
        "StockMovement",
        "Supplier",
        "Transfer",
        "TransferDiscrepancy",
        "TransferLine",
    ] = Field(alias="__typename")


class VariantStockNodeVariant(VariantFields):
    typename__: Literal["Variant"] = Field(alias="__typename")
    stock: list["VariantStockNodeVariantStock"]


VariantStockNodeVariantStock = StockLevelFields
VariantStock.model_rebuild()
VariantStockNodeVariant.model_rebuild()
