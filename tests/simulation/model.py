"""What the shop physically has, kept by the driver from the events it causes, independently of
Branchline's bookkeeping: units on the shelf (or counted back) and damaged units per (branch, variant),
and per online order what left and what came back."""

from dataclasses import dataclass, field


@dataclass
class SimOrder:
    gid: str
    cod: bool
    lines: dict[str, int]  # Shopify line item gid -> units ordered
    variants: dict[str, int]  # line item gid -> Branchline variant id
    cancelled: bool = False
    shipped: dict[str, int] = field(default_factory=dict)  # by any workflow
    manual_waiting: bool = False  # recorded in Branchline, the merchant has not fulfilled it in Shopify yet
    refused: bool = False
    received: dict[str, int] = field(default_factory=dict)  # RTO units counted back in Branchline
    shopify_restocked: dict[str, int] = field(default_factory=dict)  # refunded with restock in Shopify
    fulfilled_in_shopify: dict[str, int] = field(default_factory=dict)

    def units_shipped(self) -> int:
        return sum(self.shipped.values())

    def back(self, line: str) -> int:
        """Units of a line counted back once, whichever of the two ways came first."""
        return max(self.received.get(line, 0), self.shopify_restocked.get(line, 0))


class Model:
    def __init__(self):
        self.on_hand: dict[tuple[int, int], int] = {}
        self.damaged: dict[tuple[int, int], int] = {}
        self.orders: dict[str, SimOrder] = {}
        self.sales: list[dict] = []  # in-store sales not yet returned

    def move(self, branch_id: int, variant_id: int, units: int, bucket: str = "on_hand") -> None:
        book = self.on_hand if bucket == "on_hand" else self.damaged
        book[(branch_id, variant_id)] = book.get((branch_id, variant_id), 0) + units

    def ship(self, order: SimOrder, branch_id: int, line: str, units: int) -> None:
        order.shipped[line] = order.shipped.get(line, 0) + units
        self.move(branch_id, order.variants[line], -units)

    def shopify_restock(self, order: SimOrder, branch_id: int, line: str, units: int) -> None:
        """The merchant refunds with restock in Shopify: units not yet counted back are back now."""
        before = order.back(line)
        order.shopify_restocked[line] = order.shopify_restocked.get(line, 0) + units
        self.move(branch_id, order.variants[line], order.back(line) - before)

    def receive(self, order: SimOrder, branch_id: int, line: str, restock: int, damaged: int) -> None:
        """The RTO parcel reaches the branch: damaged units leave the shelf count (if Shopify's restock had
        put them there) or simply go to damaged; fresh good units go on the shelf."""
        before = order.back(line)
        order.received[line] = order.received.get(line, 0) + restock + damaged
        fresh = order.back(line) - before
        variant = order.variants[line]
        self.move(branch_id, variant, fresh - damaged)
        self.move(branch_id, variant, damaged, "damaged")
