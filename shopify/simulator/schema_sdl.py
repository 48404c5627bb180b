"""SDL for the subset of the Admin GraphQL API Branchline uses, shaped per API version.

Version differences that change the schema (reference 3.2, 3.5, 1.1): `changeFromQuantity` exists from 2026-01;
`compareQuantity`/`ignoreCompareQuantity` are gone from 2026-04; `@idempotent` is declared from 2026-01;
`groupObjects` defaults to true before 2026-01 and false after.
"""

from __future__ import annotations

from . import catalog_edits, order_edits

CONN = "first: Int, after: String, last: Int, before: String, reverse: Boolean = false"

_ENUMS = """
enum CurrencyCode { PKR USD EUR GBP AED CAD INR }
enum ProductStatus { ACTIVE ARCHIVED DRAFT UNLISTED }
enum ProductVariantInventoryPolicy { DENY CONTINUE }
enum ProductSortKeys { ID TITLE CREATED_AT UPDATED_AT VENDOR PRODUCT_TYPE }
enum ProductVariantSortKeys { ID SKU TITLE POSITION NAME FULL_TITLE INVENTORY_QUANTITY }
enum OrderSortKeys { CREATED_AT ID PROCESSED_AT UPDATED_AT ORDER_NUMBER TOTAL_PRICE }
enum CustomerSortKeys { ID NAME CREATED_AT UPDATED_AT }
enum LocationSortKeys { ID NAME }
enum BulkOperationsSortKeys { CREATED_AT COMPLETED_AT ID STATUS }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED RESTOCKED SCHEDULED
  UNFULFILLED FULFILLMENT_NOT_REQUIRED
}
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum FulfillmentOrderStatus { OPEN IN_PROGRESS SCHEDULED ON_HOLD INCOMPLETE CLOSED CANCELLED }
enum FulfillmentOrderRequestStatus {
  UNSUBMITTED SUBMITTED ACCEPTED REJECTED CANCELLATION_REQUESTED CANCELLATION_ACCEPTED CANCELLATION_REJECTED CLOSED
}
enum FulfillmentOrderAction { CREATE_FULFILLMENT MOVE HOLD CANCEL_FULFILLMENT_ORDER REQUEST_FULFILLMENT SPLIT }
enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
enum FulfillmentEventStatus {
  ATTEMPTED_DELIVERY CARRIER_PICKED_UP CONFIRMED DELAYED DELIVERED FAILURE IN_TRANSIT LABEL_PRINTED LABEL_PURCHASED
  OUT_FOR_DELIVERY READY_FOR_PICKUP
}
enum FulfillmentDisplayStatus {
  ATTEMPTED_DELIVERY CANCELED CARRIER_PICKED_UP CONFIRMED DELAYED DELIVERED FAILURE FULFILLED IN_TRANSIT
  LABEL_PRINTED LABEL_PURCHASED OUT_FOR_DELIVERY READY_FOR_PICKUP SUBMITTED
}
enum RefundLineItemRestockType { NO_RESTOCK CANCEL RETURN LEGACY_RESTOCK }
enum BulkOperationStatus { CREATED RUNNING COMPLETED FAILED CANCELING CANCELED EXPIRED }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
enum BulkOperationType { QUERY MUTATION }
enum BulkOperationUserErrorCode { INVALID LIMIT_REACHED OPERATION_IN_PROGRESS }
enum WebhookSubscriptionFormat { JSON XML }
enum WebhookSubscriptionTopic {
  ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED ORDERS_PAID ORDERS_FULFILLED ORDERS_PARTIALLY_FULFILLED ORDERS_EDITED
  FULFILLMENTS_CREATE FULFILLMENTS_UPDATE REFUNDS_CREATE INVENTORY_LEVELS_UPDATE INVENTORY_LEVELS_CONNECT
  INVENTORY_LEVELS_DISCONNECT INVENTORY_ITEMS_CREATE INVENTORY_ITEMS_UPDATE INVENTORY_ITEMS_DELETE PRODUCTS_CREATE
  PRODUCTS_UPDATE PRODUCTS_DELETE LOCATIONS_CREATE LOCATIONS_UPDATE LOCATIONS_DELETE APP_UNINSTALLED
  BULK_OPERATIONS_FINISH CUSTOMERS_CREATE CUSTOMERS_UPDATE
}
enum InventoryAdjustQuantitiesUserErrorCode {
  ADJUST_QUANTITIES_FAILED CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INTERNAL_LEDGER_DOCUMENT INVALID_AVAILABLE_DOCUMENT INVALID_INVENTORY_ITEM
  INVALID_LEDGER_DOCUMENT INVALID_LOCATION INVALID_QUANTITY_DOCUMENT INVALID_QUANTITY_NAME INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  MAX_ONE_LEDGER_DOCUMENT NON_MUTABLE_INVENTORY_ITEM SERVICE_UNAVAILABLE
}
enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INVALID_INVENTORY_ITEM INVALID_LOCATION
  INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH INVALID_QUANTITY_TOO_LOW INVALID_REASON
  INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
  NON_MUTABLE_INVENTORY_ITEM
}
enum InventoryMoveQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE DIFFERENT_LOCATIONS IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INTERNAL_LEDGER_DOCUMENT INVALID_AVAILABLE_DOCUMENT INVALID_INVENTORY_ITEM
  INVALID_LEDGER_DOCUMENT INVALID_LOCATION INVALID_QUANTITY_DOCUMENT INVALID_QUANTITY_NAME INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  MAXIMUM_LEDGER_DOCUMENT_URIS MOVE_QUANTITIES_FAILED NON_MUTABLE_INVENTORY_ITEM SAME_QUANTITY_NAME
}
enum InventoryActivateUserErrorCode { INVALID_INVENTORY_ITEM INVALID_LOCATION IDEMPOTENCY_KEY_PARAMETER_MISMATCH }
enum RefundUserErrorCode {
  INVALID NOT_FOUND IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
}
enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
"""

_TYPES = """
scalar DateTime
scalar Money
scalar Decimal
scalar URL
scalar UnsignedInt64
scalar JSON

interface Node { id: ID! }

type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type Count { count: Int! precision: String! }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type UserError { field: [String!] message: String! }
type App { id: ID! title: String! }
type ShopPlan { displayName: String! partnerDevelopment: Boolean! shopifyPlus: Boolean! }
type ApiVersion { handle: String! displayName: String! supported: Boolean! }

type Shop implements Node {
  id: ID! name: String! email: String! myshopifyDomain: String! url: URL! currencyCode: CurrencyCode!
  ianaTimezone: String! plan: ShopPlan!
}

type LocationAddress {
  address1: String address2: String city: String province: String provinceCode: String country: String
  countryCode: String zip: String phone: String formatted: [String!]!
}
type Location implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! isActive: Boolean! activatable: Boolean!
  deactivatable: Boolean! deactivatedAt: String fulfillsOnlineOrders: Boolean! shipsInventory: Boolean!
  hasActiveInventory: Boolean! isFulfillmentService: Boolean! createdAt: DateTime! updatedAt: DateTime!
  address: LocationAddress!
  inventoryLevels(CONN, query: String): InventoryLevelConnection!
  inventoryLevel(inventoryItemId: ID!): InventoryLevel
}

type ProductOptionValue { id: ID! name: String! }
type ProductOption { id: ID! name: String! position: Int! values: [String!]! optionValues: [ProductOptionValue!]! }
type SelectedOption { name: String! value: String! }
type Product implements Node {
  id: ID! legacyResourceId: UnsignedInt64! title: String! handle: String! status: ProductStatus! vendor: String!
  productType: String! tags: [String!]! createdAt: DateTime! updatedAt: DateTime! options: [ProductOption!]!
  hasOnlyDefaultVariant: Boolean! totalInventory: Int! tracksInventory: Boolean!
  variants(CONN): ProductVariantConnection!
  variantsCount: Count
}
type ProductVariant implements Node {
  id: ID! legacyResourceId: UnsignedInt64! title: String! displayName: String! sku: String barcode: String
  price: Money! compareAtPrice: Money inventoryQuantity: Int inventoryPolicy: ProductVariantInventoryPolicy!
  position: Int! selectedOptions: [SelectedOption!]! product: Product! inventoryItem: InventoryItem!
  createdAt: DateTime! updatedAt: DateTime!
}
type InventoryItem implements Node {
  id: ID! legacyResourceId: UnsignedInt64! sku: String tracked: Boolean! requiresShipping: Boolean!
  unitCost: MoneyV2 createdAt: DateTime! updatedAt: DateTime! variant: ProductVariant!
  inventoryLevels(CONN, query: String): InventoryLevelConnection!
  inventoryLevel(locationId: ID!): InventoryLevel
  locationsCount: Count
}
type InventoryQuantity { id: ID! name: String! quantity: Int! updatedAt: DateTime }
type InventoryLevel implements Node {
  id: ID! item: InventoryItem! location: Location! quantities(names: [String!]!): [InventoryQuantity!]!
  createdAt: DateTime! updatedAt: DateTime! canDeactivate: Boolean! deactivationAlert: String
}
type InventoryChange {
  name: String! delta: Int! quantityAfterChange: Int item: InventoryItem location: Location ledgerDocumentUri: URL
}
type InventoryAdjustmentGroup implements Node {
  id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String app: App
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}

type CustomerEmailAddress { emailAddress: String }
type CustomerPhoneNumber { phoneNumber: String! }
type Customer implements Node {
  id: ID! legacyResourceId: UnsignedInt64! firstName: String lastName: String displayName: String! email: String
  phone: String defaultEmailAddress: CustomerEmailAddress defaultPhoneNumber: CustomerPhoneNumber tags: [String!]!
  createdAt: DateTime! updatedAt: DateTime! numberOfOrders: UnsignedInt64!
}

type LineItem implements Node {
  id: ID! name: String! title: String! sku: String quantity: Int! currentQuantity: Int! unfulfilledQuantity: Int!
  refundableQuantity: Int! requiresShipping: Boolean! variant: ProductVariant product: Product
  originalUnitPriceSet: MoneyBag!
}
type Order implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! createdAt: DateTime! processedAt: DateTime!
  updatedAt: DateTime! cancelledAt: DateTime cancelReason: OrderCancelReason closedAt: DateTime closed: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  paymentGatewayNames: [String!]! sourceName: String test: Boolean! note: String currencyCode: CurrencyCode!
  customer: Customer retailLocation: Location totalPriceSet: MoneyBag! currentTotalPriceSet: MoneyBag!
  lineItems(CONN): LineItemConnection!
  fulfillmentOrders(CONN, displayable: Boolean = false, query: String): FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
  refunds(first: Int): [Refund!]!
}
type FulfillmentOrderAssignedLocation {
  name: String! address1: String city: String countryCode: String! location: Location
}
type FulfillmentOrderSupportedAction { action: FulfillmentOrderAction! }
type FulfillmentOrderLineItem implements Node {
  id: ID! totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem! variant: ProductVariant
  inventoryItemId: ID sku: String
}
type FulfillmentOrder implements Node {
  id: ID! status: FulfillmentOrderStatus! requestStatus: FulfillmentOrderRequestStatus!
  assignedLocation: FulfillmentOrderAssignedLocation! order: Order! orderId: ID! createdAt: DateTime!
  updatedAt: DateTime! fulfillAt: DateTime supportedActions: [FulfillmentOrderSupportedAction!]!
  lineItems(CONN): FulfillmentOrderLineItemConnection!
}
type FulfillmentTrackingInfo { company: String number: String url: URL }
type FulfillmentLineItem implements Node { id: ID! quantity: Int lineItem: LineItem! }
type FulfillmentEvent implements Node {
  id: ID! status: FulfillmentEventStatus! message: String happenedAt: DateTime! createdAt: DateTime!
}
type Fulfillment implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! status: FulfillmentStatus!
  displayStatus: FulfillmentDisplayStatus createdAt: DateTime! updatedAt: DateTime! location: Location order: Order!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  fulfillmentLineItems(CONN): FulfillmentLineItemConnection!
  events(CONN): FulfillmentEventConnection!
}
type RefundLineItem {
  id: ID! quantity: Int! restockType: RefundLineItemRestockType! restocked: Boolean! location: Location
  lineItem: LineItem! subtotalSet: MoneyBag!
}
type Refund implements Node {
  id: ID! legacyResourceId: UnsignedInt64! createdAt: DateTime note: String order: Order!
  totalRefundedSet: MoneyBag! refundLineItems(CONN): RefundLineItemConnection!
}

type BulkOperation implements Node {
  id: ID! status: BulkOperationStatus! errorCode: BulkOperationErrorCode type: BulkOperationType!
  createdAt: DateTime! completedAt: DateTime objectCount: UnsignedInt64! rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64 url: URL partialDataUrl: URL query: String!
}
type WebhookHttpEndpoint { callbackUrl: URL! }
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint
type WebhookSubscription implements Node {
  id: ID! legacyResourceId: UnsignedInt64! topic: WebhookSubscriptionTopic! uri: String! callbackUrl: URL!
  endpoint: WebhookSubscriptionEndpoint! format: WebhookSubscriptionFormat! includeFields: [String!]!
  name: String filter: String apiVersion: ApiVersion! createdAt: DateTime! updatedAt: DateTime!
}
type Job { id: ID! done: Boolean! }
"""

CONNECTION_NODES = (
    "Location",
    "Product",
    "ProductVariant",
    "InventoryItem",
    "InventoryLevel",
    "Customer",
    "Order",
    "LineItem",
    "FulfillmentOrder",
    "FulfillmentOrderLineItem",
    "CalculatedLineItem",
    "FulfillmentLineItem",
    "FulfillmentEvent",
    "RefundLineItem",
    "BulkOperation",
    "WebhookSubscription",
)

_QUERY = """
type Query {
  shop: Shop!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  location(id: ID): Location
  locations(CONN, query: String, sortKey: LocationSortKeys = NAME, includeInactive: Boolean = false,
            includeLegacy: Boolean = false): LocationConnection!
  product(id: ID!): Product
  products(CONN, query: String, sortKey: ProductSortKeys = ID): ProductConnection!
  productVariant(id: ID!): ProductVariant
  productVariants(CONN, query: String, sortKey: ProductVariantSortKeys = ID): ProductVariantConnection!
  inventoryItem(id: ID!): InventoryItem
  inventoryItems(CONN, query: String): InventoryItemConnection!
  inventoryLevel(id: ID!): InventoryLevel
  customer(id: ID!): Customer
  customers(CONN, query: String, sortKey: CustomerSortKeys = ID): CustomerConnection!
  order(id: ID!): Order
  orders(CONN, query: String, sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
  fulfillmentOrder(id: ID!): FulfillmentOrder
  fulfillment(id: ID!): Fulfillment
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
  bulkOperation(id: ID!): BulkOperation
  bulkOperations(CONN, query: String, sortKey: BulkOperationsSortKeys = CREATED_AT): BulkOperationConnection!
  webhookSubscription(id: ID!): WebhookSubscription
  webhookSubscriptions(CONN, topics: [WebhookSubscriptionTopic!], query: String): WebhookSubscriptionConnection!
  job(id: ID!): Job
}
"""

_MUTATION = """
type BulkOperationUserError { field: [String!] message: String! code: BulkOperationUserErrorCode }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
type BulkOperationCancelPayload { bulkOperation: BulkOperation userErrors: [UserError!]! }
type InventoryAdjustQuantitiesUserError {
  field: [String!] message: String! code: InventoryAdjustQuantitiesUserErrorCode
}
type InventorySetQuantitiesUserError { field: [String!] message: String! code: InventorySetQuantitiesUserErrorCode }
type InventoryMoveQuantitiesUserError { field: [String!] message: String! code: InventoryMoveQuantitiesUserErrorCode }
type InventoryActivateUserError { field: [String!] message: String! code: InventoryActivateUserErrorCode }
type InventoryAdjustQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventoryAdjustQuantitiesUserError!]!
}
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventorySetQuantitiesUserError!]!
}
type InventoryMoveQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventoryMoveQuantitiesUserError!]!
}
type InventoryActivatePayload { inventoryLevel: InventoryLevel userErrors: [InventoryActivateUserError!]! }
type InventoryDeactivatePayload { userErrors: [UserError!]! }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
type FulfillmentOrderMovePayload {
  movedFulfillmentOrder: FulfillmentOrder originalFulfillmentOrder: FulfillmentOrder
  remainingFulfillmentOrder: FulfillmentOrder userErrors: [UserError!]!
}
type OrderCancelUserError { field: [String!] message: String! code: OrderCancelUserErrorCode }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
type RefundUserError { field: [String!] message: String! code: RefundUserErrorCode }
type RefundCreatePayload { refund: Refund order: Order userErrors: [RefundUserError!]! }
type FulfillmentEventCreatePayload { fulfillmentEvent: FulfillmentEvent userErrors: [UserError!]! }

input InventoryAdjustQuantitiesInput {
  name: String! reason: String! referenceDocumentUri: String changes: [InventoryChangeInput!]!
}
input InventoryChangeInput {
  inventoryItemId: ID! locationId: ID! delta: Int! ledgerDocumentUri: String CAS_FIELD
}
input InventorySetQuantitiesInput {
  name: String! reason: String! referenceDocumentUri: String quantities: [InventoryQuantityInput!]! OLD_IGNORE
}
input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! OLD_COMPARE CAS_FIELD }
input InventoryMoveQuantitiesInput {
  reason: String! referenceDocumentUri: String! changes: [InventoryMoveQuantityChange!]!
}
input InventoryMoveQuantityChange {
  inventoryItemId: ID! quantity: Int! from: InventoryMoveQuantityTerminalInput! to: InventoryMoveQuantityTerminalInput!
}
input InventoryMoveQuantityTerminalInput { name: String! locationId: ID! ledgerDocumentUri: String CAS_FIELD }
input WebhookSubscriptionInput {
  uri: String callbackUrl: URL format: WebhookSubscriptionFormat = JSON includeFields: [String!] filter: String
  metafieldNamespaces: [String!] name: String
}
input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String number: String url: URL numbers: [String!] urls: [URL!] }
input FulfillmentOriginAddressInput {
  address1: String address2: String city: String countryCode: String! provinceCode: String zip: String
}
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]! notifyCustomer: Boolean
  trackingInfo: FulfillmentTrackingInput originAddress: FulfillmentOriginAddressInput
}
input FulfillmentEventInput {
  fulfillmentId: ID! status: FulfillmentEventStatus! message: String happenedAt: DateTime estimatedDeliveryAt: DateTime
  city: String country: String province: String zip: String address1: String latitude: Float longitude: Float
}
input OrderCancelStoreCreditRefundInput { expiresAt: DateTime }
input OrderCancelRefundMethodInput {
  originalPaymentMethodsRefund: Boolean storeCreditRefund: OrderCancelStoreCreditRefundInput
}
input RefundLineItemInput {
  lineItemId: ID! quantity: Int! restockType: RefundLineItemRestockType = RETURN locationId: ID
}
input OrderTransactionInput { amount: Money! gateway: String! kind: String! orderId: ID! parentId: ID }
input ShippingRefundInput { amount: Money fullRefund: Boolean }
input RefundInput {
  orderId: ID! refundLineItems: [RefundLineItemInput!] note: String notify: Boolean currency: CurrencyCode
  transactions: [OrderTransactionInput!] shipping: ShippingRefundInput allowOverRefunding: Boolean
}

type Mutation {
  bulkOperationRunQuery(query: String!, groupObjects: Boolean! = GROUP_DEFAULT): BulkOperationRunQueryPayload
  bulkOperationCancel(id: ID!): BulkOperationCancelPayload
  inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryMoveQuantities(input: InventoryMoveQuantitiesInput!): InventoryMoveQuantitiesPayload
  inventoryActivate(inventoryItemId: ID!, locationId: ID!, available: Int, onHand: Int,
                    stockAtLegacyLocation: Boolean = false): InventoryActivatePayload
  inventoryDeactivate(inventoryLevelId: ID!): InventoryDeactivatePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
                            webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  fulfillmentOrderMove(id: ID!, newLocationId: ID!,
                       fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]): FulfillmentOrderMovePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, restock: Boolean!, refund: Boolean,
              refundMethod: OrderCancelRefundMethodInput, notifyCustomer: Boolean = false,
              staffNote: String): OrderCancelPayload
  refundCreate(input: RefundInput!): RefundCreatePayload
  fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!): FulfillmentEventCreatePayload
ORDER_EDITS}
"""


def _connections() -> str:
    parts = []
    for name in CONNECTION_NODES:
        parts.append(
            f"type {name}Edge {{ cursor: String! node: {name}! }}\n"
            f"type {name}Connection {{ edges: [{name}Edge!]! nodes: [{name}!]! pageInfo: PageInfo! }}\n"
        )
    return "".join(parts)


def sdl_for(version: tuple[int, int]) -> str:
    """Full SDL as served at `version`."""
    cas = version >= (2026, 1)
    old_compare = version < (2026, 4)
    mutation = (
        _MUTATION.replace("CAS_FIELD", "changeFromQuantity: Int" if cas else "")
        .replace("OLD_COMPARE", "compareQuantity: Int" if old_compare else "")
        .replace("OLD_IGNORE", "ignoreCompareQuantity: Boolean = false" if old_compare else "")
        .replace("GROUP_DEFAULT", "false" if version >= (2026, 1) else "true")
        .replace("ORDER_EDITS", order_edits.MUTATIONS + catalog_edits.MUTATIONS)
    )
    directive = "directive @idempotent(key: String!) on FIELD\n" if version >= (2026, 1) else ""
    text = directive + _ENUMS + _TYPES + order_edits.SDL + catalog_edits.SDL + _connections() + _QUERY + mutation
    return text.replace("(CONN,", f"({CONN},").replace("(CONN)", f"({CONN})")
