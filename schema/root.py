"""The root Query, Mutation and Subscription types: names only; the work is in resolvers/."""

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from resolvers import branches, catalog, live, staff, stock
from schema.ids import resolve_node
from schema.live import StockChange
from schema.payloads import (
    AdjustStockPayload,
    CreateBranchPayload,
    CreateCounterPayload,
    CreateProductPayload,
    SetReorderPointsPayload,
)
from schema.staff import AuditEntry, CreateStaffPayload, LoginPayload, LogoutPayload, Staff
from schema.types import Branch, StockLevel, StockMovement, Variant


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global ID.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> relay.Node | None:
        return await resolve_node(info, id)

    branches: relay.Connection[Branch] = strawberry.field(resolver=branches.branches)
    variants: relay.Connection[Variant] = strawberry.field(resolver=catalog.variants)
    stock_levels: relay.Connection[StockLevel] = strawberry.field(resolver=stock.stock_levels)
    stock_movements: relay.Connection[StockMovement] = strawberry.field(resolver=stock.stock_movements)
    me: Staff = strawberry.field(resolver=staff.me, description="The signed-in staff member.")
    audit_log: list[AuditEntry] = strawberry.field(resolver=staff.audit_log)


@strawberry.type
class Mutation:
    login: LoginPayload = strawberry.mutation(resolver=staff.login)
    counter_login: LoginPayload = strawberry.mutation(resolver=staff.counter_login)
    logout: LogoutPayload = strawberry.mutation(resolver=staff.logout)
    create_staff: CreateStaffPayload = strawberry.mutation(resolver=staff.create_staff)
    create_branch: CreateBranchPayload = strawberry.mutation(resolver=branches.create_branch)
    create_counter: CreateCounterPayload = strawberry.mutation(resolver=branches.create_counter)
    create_product: CreateProductPayload = strawberry.mutation(resolver=catalog.create_product)
    adjust_stock: AdjustStockPayload = strawberry.mutation(resolver=stock.adjust_stock)
    set_reorder_points: SetReorderPointsPayload = strawberry.mutation(resolver=stock.set_reorder_points)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every committed stock change at these branches (optionally only these variants)."
    )
    async def stock_changed(
        self,
        info: strawberry.Info,
        branch_ids: list[strawberry.ID],
        variant_ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[StockChange, None]:
        async for change in live.stock_changed(info, branch_ids, variant_ids):
            yield change
