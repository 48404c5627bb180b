"""Request-scoped DataLoaders: a page of 100 rows costs a fixed number of queries."""

from collections import defaultdict

from strawberry.dataloader import DataLoader

from models.branches import Branch, Counter
from models.catalog import Product, Variant


def _by_id(model):
    async def load(keys: list[int]):
        rows = {row.id: row for row in await model.filter(id__in=keys)}
        return [rows.get(k) for k in keys]

    return load


def _children(model, parent_field: str):
    async def load(keys: list[int]):
        grouped = defaultdict(list)
        for row in await model.filter(**{f"{parent_field}__in": keys}).order_by("id"):
            grouped[getattr(row, parent_field)].append(row)
        return [grouped[k] for k in keys]

    return load


class Loaders:
    def __init__(self) -> None:
        self.branch = DataLoader(_by_id(Branch))
        self.variant = DataLoader(_by_id(Variant))
        self.product = DataLoader(_by_id(Product))
        self.counters_of_branch = DataLoader(_children(Counter, "branch_id"))
        self.variants_of_product = DataLoader(_children(Variant, "product_id"))
