"""The root Query, Mutation and Subscription types: names only; the work is in resolvers/.

The only module of schema/ that imports resolvers/ (which import the rest of schema/): see
docs/architecture.md, Packages."""

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from resolvers import branches, catalog, live, sales, staff, stock
from resolvers import branches as branch_resolvers
from resolvers import counts as count_resolvers
from resolvers import customers as customer_resolvers
from resolvers import drift as drift_resolvers
from resolvers import exchanges as exchange_resolvers
from resolvers import fiscal as fiscal_resolvers
from resolvers import fulfillment as fulfillment_resolvers
from resolvers import loyalty as loyalty_resolvers
from resolvers import orders as order_resolvers
from resolvers import purchasing as purchasing_resolvers
from resolvers import registers as register_resolvers
from resolvers import reorder as reorder_resolvers
from resolvers import reports as report_resolvers
from resolvers import returns as return_resolvers
from resolvers import shopify as shopify_resolvers
from resolvers import sync as sync_resolvers
from resolvers import transfers as transfer_resolvers
from schema.catalog import (
    ArchiveProductPayload,
    CreateVariantPayload,
    ImportCatalogUpdatesPayload,
    UpdateProductPayload,
    UpdateVariantPayload,
)
from schema.counts import (
    AbandonStockCountPayload,
    ApproveStockCountPayload,
    OpenStockCountPayload,
    RecordCountedQuantitiesPayload,
    StockCount,
    SubmitStockCountPayload,
)
from schema.customers import CreateCustomerPayload, Customer, UpdateCustomerPayload
from schema.drift import CheckDriftPayload, DriftCheck, RepairDriftPayload
from schema.exchanges import ExchangeDeliveredItemsPayload, ExchangeOrderItemsPayload
from schema.fiscal import (
    FiscalStatus,
    RequeueFiscalPayload,
    SetBranchFiscalAuthorityPayload,
    SetCounterFiscalRegistrationPayload,
    SetFiscalTokenPayload,
)
from schema.fulfillment import FulfillOrderPayload, ReceiveReturnedOrderPayload, RecordManualFulfillmentPayload
from schema.ids import resolve_node
from schema.live import StockChange
from schema.loyalty import AdjustLoyaltyPointsPayload, SetBranchLoyaltySettingsPayload
from schema.orders import (
    AssignOrderBranchPayload,
    CancelOrderPayload,
    ConfirmOrderPayload,
    MarkOrderDeliveredPayload,
    MarkOrderRefusedPayload,
    Order,
    OrderEvent,
)
from schema.payloads import (
    AdjustStockPayload,
    CreateBranchPayload,
    CreateCounterPayload,
    CreateProductPayload,
    DeactivateCounterPayload,
    SetBranchOnlineSettingsPayload,
    SetReorderPointsPayload,
    UpdateCounterPayload,
)
from schema.purchasing import (
    CancelPurchaseOrderPayload,
    ClosePurchaseOrderPayload,
    CreatePurchaseOrderPayload,
    CreateSupplierPayload,
    PlacePurchaseOrderPayload,
    PurchaseOrder,
    ReceiveGoodsPayload,
    StockValuation,
    Supplier,
)
from schema.registers import (
    CashMovement,
    CloseRegisterPayload,
    EndShiftPayload,
    OpenRegisterPayload,
    RecordCashMovementPayload,
    Register,
    RegisterReport,
)
from schema.reorder import LowStockAlert, ReorderSuggestion
from schema.report_views import (
    CommissionReportRow,
    DayClose,
    ExportReportPayload,
    OrdersReport,
    ReportExport,
    ReturnsReportRow,
    SetCommissionRatePayload,
    StockReportLine,
    SyncSummary,
    TransferAgeing,
    ValuationReportRow,
)
from schema.reports import SalesReport
from schema.returns import CreateExchangePayload, CreateReturnPayload, SaleReturn
from schema.sales import (
    CheckoutPayload,
    PlaceDraftPayload,
    ReprintReceiptPayload,
    Sale,
    SaveDraftPayload,
    SyncOfflineSalesPayload,
    VoidSalePayload,
)
from schema.shopify import (
    ConnectShopifyPayload,
    DisconnectShopifyPayload,
    ImportJob,
    ImportProgress,
    MapLocationPayload,
    ShopifyLocation,
    StartShopifyImportPayload,
)
from schema.staff import (
    AuditEntry,
    ChangeMyPasswordPayload,
    CounterLoginPayload,
    CreateStaffPayload,
    DeactivateStaffPayload,
    LoginPayload,
    LogoutPayload,
    ReactivateStaffPayload,
    ResetStaffPasswordPayload,
    ResetStaffPinPayload,
    Staff,
    UpdateStaffPayload,
)
from schema.sync import RetryParkedSyncPayload, RetryWebhooksPayload, SyncStatus, WebhookException
from schema.transfers import (
    ApproveTransferPayload,
    CancelTransferPayload,
    CloseTransferPayload,
    CreateTransferPayload,
    DispatchTransferPayload,
    ReceiveTransferPayload,
    ReturnDiscrepancyToStockPayload,
    SubmitTransferPayload,
    Transfer,
)
from schema.types import Branch, Counter, StockLevel, StockMovement, Variant


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
    audit_log: relay.Connection[AuditEntry] = strawberry.field(resolver=staff.audit_log)
    staff_members: relay.Connection[Staff] = strawberry.field(resolver=staff.staff_members)
    counters: relay.Connection[Counter] = strawberry.field(resolver=branch_resolvers.counters)
    sales: relay.Connection[Sale] = strawberry.field(resolver=sales.sales)
    customers: relay.Connection[Customer] = strawberry.field(resolver=customer_resolvers.customers)
    returns: relay.Connection[SaleReturn] = strawberry.field(resolver=return_resolvers.returns)
    cash_movements: relay.Connection[CashMovement] = strawberry.field(resolver=register_resolvers.cash_movements)
    current_register: Register | None = strawberry.field(resolver=register_resolvers.current_register)
    register_report: RegisterReport = strawberry.field(resolver=register_resolvers.register_report)
    sales_report: SalesReport = strawberry.field(
        resolver=report_resolvers.sales_report_query,
        description="Sales and returns over some local days at the branches the caller reports on, grouped as asked.",
    )
    day_close: DayClose = strawberry.field(resolver=report_resolvers.day_close_query)
    returns_report: list[ReturnsReportRow] = strawberry.field(resolver=report_resolvers.returns_report_query)
    orders_report: OrdersReport = strawberry.field(resolver=report_resolvers.orders_report_query)
    stock_value_report: list[ValuationReportRow] = strawberry.field(resolver=report_resolvers.stock_value_report)
    dead_stock: list[StockReportLine] = strawberry.field(resolver=report_resolvers.dead_stock_query)
    low_stock_report: list[StockReportLine] = strawberry.field(resolver=report_resolvers.low_stock_query)
    transfer_ageing: list[TransferAgeing] = strawberry.field(resolver=report_resolvers.transfer_ageing_query)
    sync_report: SyncSummary = strawberry.field(resolver=report_resolvers.sync_summary_query)
    commission_report: list[CommissionReportRow] = strawberry.field(resolver=report_resolvers.commission_report_query)
    export_progress: ReportExport = strawberry.field(resolver=report_resolvers.export_progress_query)
    sync_status: SyncStatus = strawberry.field(resolver=shopify_resolvers.sync_status)
    fiscal_status: FiscalStatus = strawberry.field(
        resolver=fiscal_resolvers.fiscal_status,
        description="FBR/PRA reporting: pending, ageing past the window, parked, flagged; per branch.",
    )
    shopify_locations: list[ShopifyLocation] = strawberry.field(resolver=shopify_resolvers.shopify_locations_list)
    import_job: ImportJob = strawberry.field(resolver=shopify_resolvers.import_job)
    reorder_suggestions: list[ReorderSuggestion] = strawberry.field(
        resolver=reorder_resolvers.reorder_suggestions,
        description="Low lines at a branch: how many to bring in, from which branches, what to buy.",
    )
    suppliers: relay.Connection[Supplier] = strawberry.field(resolver=purchasing_resolvers.suppliers)
    purchase_orders: relay.Connection[PurchaseOrder] = strawberry.field(resolver=purchasing_resolvers.purchase_orders)
    stock_valuation: StockValuation = strawberry.field(
        resolver=purchasing_resolvers.stock_valuation,
        description="A branch's stock at weighted average cost, and the variants with stock but no cost yet.",
    )
    transfers: relay.Connection[Transfer] = strawberry.field(resolver=transfer_resolvers.transfers)
    stock_count: StockCount | None = strawberry.field(resolver=count_resolvers.stock_count)
    stock_counts: relay.Connection[StockCount] = strawberry.field(resolver=count_resolvers.stock_counts)
    orders: relay.Connection[Order] = strawberry.field(resolver=order_resolvers.orders)
    drift_report: DriftCheck | None = strawberry.field(resolver=drift_resolvers.drift_report)
    webhook_exceptions: relay.Connection[WebhookException] = strawberry.field(
        resolver=sync_resolvers.webhook_exceptions
    )


@strawberry.type
class Mutation:
    login: LoginPayload = strawberry.mutation(resolver=staff.login)
    counter_login: CounterLoginPayload = strawberry.mutation(resolver=staff.counter_login)
    logout: LogoutPayload = strawberry.mutation(resolver=staff.logout)
    create_staff: CreateStaffPayload = strawberry.mutation(resolver=staff.create_staff)
    update_staff: UpdateStaffPayload = strawberry.mutation(resolver=staff.update_staff)
    deactivate_staff: DeactivateStaffPayload = strawberry.mutation(
        resolver=staff.deactivate_staff,
        description="No more sign-in: every session of theirs ends and their open sockets close.",
    )
    reactivate_staff: ReactivateStaffPayload = strawberry.mutation(resolver=staff.reactivate_staff)
    reset_staff_pin: ResetStaffPinPayload = strawberry.mutation(
        resolver=staff.reset_staff_pin, description="A new PIN for a staff member; their sessions end."
    )
    reset_staff_password: ResetStaffPasswordPayload = strawberry.mutation(
        resolver=staff.reset_staff_password, description="A new password for a staff member; their sessions end."
    )
    change_my_password: ChangeMyPasswordPayload = strawberry.mutation(
        resolver=staff.change_password, description="Your own password; your other sessions end."
    )
    create_branch: CreateBranchPayload = strawberry.mutation(resolver=branches.create_branch)
    create_counter: CreateCounterPayload = strawberry.mutation(resolver=branches.create_counter)
    update_counter: UpdateCounterPayload = strawberry.mutation(resolver=branches.update_counter)
    deactivate_counter: DeactivateCounterPayload = strawberry.mutation(
        resolver=branches.deactivate_counter,
        description="No sign-in, register or sale at the counter again; refused while its register is open.",
    )
    set_branch_online_settings: SetBranchOnlineSettingsPayload = strawberry.mutation(
        resolver=branches.set_branch_online_settings,
        description="A branch's fulfillment workflow, routing priority and walk-in safety stock.",
    )
    create_product: CreateProductPayload = strawberry.mutation(resolver=catalog.create_product)
    update_product: UpdateProductPayload = strawberry.mutation(resolver=catalog.update_product)
    create_variant: CreateVariantPayload = strawberry.mutation(resolver=catalog.create_variant)
    update_variant: UpdateVariantPayload = strawberry.mutation(resolver=catalog.update_variant)
    archive_product: ArchiveProductPayload = strawberry.mutation(
        resolver=catalog.archive_product,
        description="None of its variants can be sold (ARCHIVED at checkout and drafts); its history stays.",
    )
    unarchive_product: ArchiveProductPayload = strawberry.mutation(resolver=catalog.unarchive_product)
    import_catalog_updates: ImportCatalogUpdatesPayload = strawberry.mutation(
        resolver=catalog.import_catalog_updates,
        description="Tax rates, PCT codes, prices and costs by SKU from a CSV or XLSX file: a dry run says what "
        "would change; a real run applies every row or none (the rows at fault named).",
    )
    adjust_stock: AdjustStockPayload = strawberry.mutation(resolver=stock.adjust_stock)
    set_reorder_points: SetReorderPointsPayload = strawberry.mutation(resolver=stock.set_reorder_points)
    create_customer: CreateCustomerPayload = strawberry.mutation(resolver=customer_resolvers.create_customer)
    set_commission_rate: SetCommissionRatePayload = strawberry.mutation(
        resolver=report_resolvers.set_commission_rate_mutation,
        description="A salesperson's or product type's commission percent from a moment on (the past keeps its rate).",
    )
    export_report: ExportReportPayload = strawberry.mutation(resolver=report_resolvers.export_report_mutation)
    update_customer: UpdateCustomerPayload = strawberry.mutation(resolver=customer_resolvers.update_customer)
    adjust_loyalty_points: AdjustLoyaltyPointsPayload = strawberry.mutation(
        resolver=loyalty_resolvers.adjust_loyalty_points,
        description="A manager adds or takes a customer's loyalty points, with a reason (audited).",
    )
    set_branch_loyalty_settings: SetBranchLoyaltySettingsPayload = strawberry.mutation(
        resolver=loyalty_resolvers.set_branch_loyalty_settings,
        description="A branch's own loyalty earn rate (points per PKR 100 paid), or the retailer's default.",
    )
    checkout: CheckoutPayload = strawberry.mutation(resolver=sales.checkout)
    save_draft: SaveDraftPayload = strawberry.mutation(resolver=sales.save_draft)
    place_draft: PlaceDraftPayload = strawberry.mutation(resolver=sales.place_draft)
    void_sale: VoidSalePayload = strawberry.mutation(resolver=sales.void_sale)
    reprint_receipt: ReprintReceiptPayload = strawberry.mutation(
        resolver=sales.reprint_receipt,
        description="A sale's receipt again, as it stands now, marked as a duplicate and audited.",
    )
    sync_offline_sales: SyncOfflineSalesPayload = strawberry.mutation(resolver=sales.sync_offline_sales)
    create_return: CreateReturnPayload = strawberry.mutation(resolver=return_resolvers.create_return)
    create_exchange: CreateExchangePayload = strawberry.mutation(resolver=return_resolvers.create_exchange)
    open_register: OpenRegisterPayload = strawberry.mutation(resolver=register_resolvers.open_register)
    record_cash_movement: RecordCashMovementPayload = strawberry.mutation(
        resolver=register_resolvers.record_cash_movement
    )
    close_register: CloseRegisterPayload = strawberry.mutation(resolver=register_resolvers.close_register)
    end_shift: EndShiftPayload = strawberry.mutation(resolver=register_resolvers.end_shift)
    connect_shopify: ConnectShopifyPayload = strawberry.mutation(resolver=shopify_resolvers.connect_shopify)
    disconnect_shopify: DisconnectShopifyPayload = strawberry.mutation(resolver=shopify_resolvers.disconnect_shopify)
    start_shopify_import: StartShopifyImportPayload = strawberry.mutation(
        resolver=shopify_resolvers.start_shopify_import
    )
    map_location: MapLocationPayload = strawberry.mutation(resolver=shopify_resolvers.map_location)
    create_supplier: CreateSupplierPayload = strawberry.mutation(resolver=purchasing_resolvers.create_supplier)
    create_purchase_order: CreatePurchaseOrderPayload = strawberry.mutation(
        resolver=purchasing_resolvers.create_purchase_order
    )
    place_purchase_order: PlacePurchaseOrderPayload = strawberry.mutation(
        resolver=purchasing_resolvers.place_purchase_order
    )
    receive_goods: ReceiveGoodsPayload = strawberry.mutation(
        resolver=purchasing_resolvers.receive_goods,
        description="A goods-received note: units in at the order's branch, average cost updated. "
        "Never more than outstanding (over-receipt is refused).",
    )
    close_purchase_order: ClosePurchaseOrderPayload = strawberry.mutation(
        resolver=purchasing_resolvers.close_purchase_order,
        description="Short-close: what is still outstanding is no longer expected.",
    )
    cancel_purchase_order: CancelPurchaseOrderPayload = strawberry.mutation(
        resolver=purchasing_resolvers.cancel_purchase_order,
        description="Only before anything was received.",
    )
    create_transfer: CreateTransferPayload = strawberry.mutation(resolver=transfer_resolvers.create_transfer)
    submit_transfer: SubmitTransferPayload = strawberry.mutation(resolver=transfer_resolvers.submit_transfer)
    approve_transfer: ApproveTransferPayload = strawberry.mutation(resolver=transfer_resolvers.approve_transfer)
    dispatch_transfer: DispatchTransferPayload = strawberry.mutation(resolver=transfer_resolvers.dispatch_transfer)
    receive_transfer: ReceiveTransferPayload = strawberry.mutation(resolver=transfer_resolvers.receive_transfer)
    close_transfer: CloseTransferPayload = strawberry.mutation(resolver=transfer_resolvers.close_transfer)
    cancel_transfer: CancelTransferPayload = strawberry.mutation(resolver=transfer_resolvers.cancel_transfer)
    return_discrepancy_to_stock: ReturnDiscrepancyToStockPayload = strawberry.mutation(
        resolver=transfer_resolvers.return_discrepancy_to_stock
    )
    open_stock_count: OpenStockCountPayload = strawberry.mutation(resolver=count_resolvers.open_stock_count)
    record_counted_quantities: RecordCountedQuantitiesPayload = strawberry.mutation(
        resolver=count_resolvers.record_counted_quantities
    )
    submit_stock_count: SubmitStockCountPayload = strawberry.mutation(resolver=count_resolvers.submit_stock_count)
    approve_stock_count: ApproveStockCountPayload = strawberry.mutation(resolver=count_resolvers.approve_stock_count)
    abandon_stock_count: AbandonStockCountPayload = strawberry.mutation(resolver=count_resolvers.abandon_stock_count)
    retry_parked_sync: RetryParkedSyncPayload = strawberry.mutation(
        resolver=sync_resolvers.retry_parked_sync,
        description="Put every parked Shopify stock change and order action back in the queue (owner/admin).",
    )
    retry_webhooks: RetryWebhooksPayload = strawberry.mutation(resolver=sync_resolvers.retry_webhooks)
    set_counter_fiscal_registration: SetCounterFiscalRegistrationPayload = strawberry.mutation(
        resolver=fiscal_resolvers.set_counter_fiscal_registration,
        description="A counter's POSID and whether its sales are reported to the tax authority (owner/admin).",
    )
    set_branch_fiscal_authority: SetBranchFiscalAuthorityPayload = strawberry.mutation(
        resolver=fiscal_resolvers.set_branch_fiscal_authority,
        description="Which authority a branch reports to: FBR or PRA (owner/admin).",
    )
    set_fiscal_token: SetFiscalTokenPayload = strawberry.mutation(
        resolver=fiscal_resolvers.set_fiscal_token,
        description="The authority's Bearer token, stored encrypted (owner/admin).",
    )
    requeue_fiscal: RequeueFiscalPayload = strawberry.mutation(
        resolver=fiscal_resolvers.requeue_fiscal,
        description="Put parked and refused fiscal invoices back in the queue, with the same USINs (owner/admin).",
    )
    assign_order_branch: AssignOrderBranchPayload = strawberry.mutation(resolver=order_resolvers.assign_order_branch)
    confirm_order: ConfirmOrderPayload = strawberry.mutation(resolver=order_resolvers.confirm_order)
    cancel_order: CancelOrderPayload = strawberry.mutation(resolver=order_resolvers.cancel_order)
    mark_order_delivered: MarkOrderDeliveredPayload = strawberry.mutation(resolver=order_resolvers.mark_order_delivered)
    mark_order_refused: MarkOrderRefusedPayload = strawberry.mutation(resolver=order_resolvers.mark_order_refused)
    check_drift: CheckDriftPayload = strawberry.mutation(resolver=drift_resolvers.check_drift)
    repair_drift: RepairDriftPayload = strawberry.mutation(resolver=drift_resolvers.repair_drift)
    fulfill_order: FulfillOrderPayload = strawberry.mutation(resolver=fulfillment_resolvers.fulfill_order)
    record_manual_fulfillment: RecordManualFulfillmentPayload = strawberry.mutation(
        resolver=fulfillment_resolvers.record_manual_fulfillment
    )
    receive_returned_order: ReceiveReturnedOrderPayload = strawberry.mutation(
        resolver=fulfillment_resolvers.receive_returned_order
    )
    exchange_order_items: ExchangeOrderItemsPayload = strawberry.mutation(
        resolver=exchange_resolvers.exchange_order_items
    )
    exchange_delivered_items: ExchangeDeliveredItemsPayload = strawberry.mutation(
        resolver=exchange_resolvers.exchange_delivered_items
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every committed stock change at these branches (optionally only these variants); without "
        "branchIds, at every branch where the caller may see stock (as the subscription starts)."
    )
    async def stock_changed(
        self,
        info: strawberry.Info,
        branch_ids: list[strawberry.ID] | None = None,
        variant_ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[StockChange, None]:
        async for change in live.stock_changed(info, branch_ids, variant_ids):
            yield change

    @strawberry.subscription(
        description="A line at these branches crossed its reorder point (LOW, OUT) or came back above it."
    )
    async def low_stock(
        self,
        info: strawberry.Info,
        branch_ids: list[strawberry.ID],
        variant_ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[LowStockAlert, None]:
        async for alert in reorder_resolvers.low_stock(info, branch_ids, variant_ids):
            yield alert

    @strawberry.subscription(description="An import's progress: its state now, then each change until it ends.")
    async def import_progress(
        self, info: strawberry.Info, job_id: strawberry.ID
    ) -> AsyncGenerator[ImportProgress, None]:
        async for progress in shopify_resolvers.import_progress(info, job_id):
            yield progress

    @strawberry.subscription(description="The sync status now, then after every push to Shopify that changed it.")
    async def sync_status_changed(self, info: strawberry.Info) -> AsyncGenerator[SyncStatus, None]:
        async for status in sync_resolvers.sync_status_changed(info):
            yield status

    @strawberry.subscription(description="The fiscal status now, then whenever it changes or an invoice ages.")
    async def fiscal_alerts(
        self, info: strawberry.Info, branch_id: strawberry.ID | None = None
    ) -> AsyncGenerator[FiscalStatus, None]:
        async for status in fiscal_resolvers.fiscal_alerts(info, branch_id):
            yield status

    @strawberry.subscription(description="New online orders and each step of them at these branches.")
    async def order_events(
        self, info: strawberry.Info, branch_ids: list[strawberry.ID]
    ) -> AsyncGenerator[OrderEvent, None]:
        async for event in order_resolvers.order_events(info, branch_ids):
            yield event
