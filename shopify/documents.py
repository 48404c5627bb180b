"""Every Admin API document the domain sends, in one place (API version pinned in shopify/client.py; the
bulk-operation plumbing keeps its own two in shopify/bulk.py)."""

# Bulk exports for the catalog import (Shopify's Admin API documentation). Rooted at
# productVariants so inventory levels sit at connection depth 2; `__typename` on every node so
# lines are dispatched without parsing GIDs (the import reads the GID anyway, for files without it).
LOCATIONS_EXPORT = """
{
  locations(includeInactive: true) {
    edges { node {
      __typename id name isActive fulfillsOnlineOrders
      address { address1 address2 city province country countryCode zip phone }
    } }
  }
}
"""

VARIANTS_EXPORT = """
{
  productVariants {
    edges { node {
      __typename id sku barcode price compareAtPrice title
      selectedOptions { name value }
      product { id title status vendor productType }
      inventoryItem {
        id tracked unitCost { amount currencyCode }
        inventoryLevels {
          edges { node {
            __typename id
            location { id name }
            quantities(names: ["available", "on_hand", "committed", "reserved", "damaged"]) { name quantity }
          } }
        }
      }
    } }
  }
}
"""

CUSTOMERS_EXPORT = """
{
  customers {
    edges { node {
      __typename id firstName lastName email phone
    } }
  }
}
"""

BULK_EXPORTS = {"locations": LOCATIONS_EXPORT, "variants": VARIANTS_EXPORT, "customers": CUSTOMERS_EXPORT}


# --- Connecting: the shop, and the webhook subscriptions (operations/sync/connection.py).

SHOP = "query Shop { shop { name myshopifyDomain currencyCode } }"

WEBHOOK_SUBSCRIPTIONS = """
query Subscriptions { webhookSubscriptions(first: 100) { edges { node { id topic uri } } } }
"""

SUBSCRIBE_WEBHOOK = """
mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

UNSUBSCRIBE_WEBHOOK = """
mutation Unsubscribe($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}
"""


# --- Orders as the poll, intake and recovery read them (parsed by operations/orders/payloads.py).

# Caps as high as Shopify's 1000-point limit on one query's requested cost allows (250 line items would
# cost about 1000 on their own): ORDER ≈ 953 points, ORDER_PLACEMENT ≈ 928. A line not read because
# of a cap is unknown to the caller (left as it is), never taken as untracked or removed.
_FULFILLMENT_ORDERS = """
fulfillmentOrders(first: 5) {{ nodes {{
  id status assignedLocation {{ location {{ id }} }}
  lineItems(first: {lines}) {{ nodes {{
    id remainingQuantity lineItem {{ id }} variant {{ id inventoryItem {{ id tracked }} }}
  }} }}
}} }}
"""

FULFILLMENT_ORDERS_FIELDS = _FULFILLMENT_ORDERS.format(lines=25)

ORDER_FIELDS = f"""
id name createdAt updatedAt cancelledAt displayFinancialStatus paymentGatewayNames currencyCode
totalPriceSet {{ shopMoney {{ amount }} }}
customer {{ id firstName lastName email phone }}
fulfillments(first: 20) {{ id }}
refunds(first: 20) {{ id }}
lineItems(first: 100) {{ pageInfo {{ hasNextPage }} nodes {{
  id name sku currentQuantity variant {{ id }} originalUnitPriceSet {{ shopMoney {{ amount }} }}
}} }}
{FULFILLMENT_ORDERS_FIELDS}
"""

ORDER = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"

ORDER_PLACEMENT = (
    f"query OrderPlacement($id: ID!) {{ order(id: $id) {{ id updatedAt {_FULFILLMENT_ORDERS.format(lines=45)} }} }}"
)

ORDERS_UPDATED = """
query Orders($query: String!, $after: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { id updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""


# --- Order actions: fulfilling, routing and cancelling in Shopify (operations/sync/order_calls.py).

ORDER_FOR_ACTION = """
query OrderForAction($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillments(first: 10) {
      id
      status
      location { id }
      trackingInfo(first: 1) { company number }
      fulfillmentLineItems(first: 25) { nodes { quantity lineItem { id } } }
    }
    fulfillmentOrders(first: 10) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 25) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

FULFILL_FROM_BRANCH = """
mutation FulfillFromBranch($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}
"""

ROUTE_TO_BRANCH = """
mutation RouteToBranch($id: ID!, $location: ID!) {
  fulfillmentOrderMove(id: $id, newLocationId: $location) {
    movedFulfillmentOrder { id }
    userErrors { field message }
  }
}
"""

CANCEL_ORDER = """
mutation CancelOrder($id: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refund: Boolean, $note: String) {
  orderCancel(
    orderId: $id, reason: $reason, restock: $restock, refund: $refund, staffNote: $note, notifyCustomer: false
  ) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}
"""


# --- Order edits for an exchange before dispatch (operations/sync/order_edits.py).

ORDER_LINES_FOR_EDIT = """
query OrderLinesForEdit($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    lineItems(first: 250) { nodes { id currentQuantity variant { id } } }
  }
}
"""

BEGIN_EXCHANGE = """
mutation BeginExchange($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id lineItems(first: 250) { nodes { id quantity variant { id } } } }
    userErrors { field message }
  }
}
"""

EXCHANGE_GIVE_BACK = """
mutation ExchangeGiveBack($id: ID!, $line: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $line, quantity: $quantity, restock: true) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}
"""

EXCHANGE_TAKE = """
mutation ExchangeTake($id: ID!, $variant: ID!, $quantity: Int!, $location: ID) {
  orderEditAddVariant(id: $id, variantId: $variant, quantity: $quantity, locationId: $location, allowDuplicates: true) {
    calculatedLineItem { id }
    userErrors { field message }
  }
}
"""

COMMIT_EXCHANGE = """
mutation CommitExchange($id: ID!, $note: String) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: $note) {
    order { id lineItems(first: 250) { nodes { id currentQuantity variant { id } } } }
    userErrors { field message }
  }
}
"""


# --- Recovering fulfillments and refunds webhooks missed (operations/sync/recovery.py).

# ≈ 10 × (40 line items × 2 + 5) points at most: well inside Shopify's 1000-point limit for one query.
ORDER_FULFILLMENTS = """
query OrderFulfillments($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 10) {
      id
      status
      location { id }
      trackingInfo(first: 1) { company number }
      fulfillmentLineItems(first: 40) { nodes { quantity lineItem { id } } }
    }
  }
}
"""

ORDER_REFUNDS = """
query OrderRefunds($id: ID!) {
  order(id: $id) {
    id
    refunds(first: 20) {
      id
      refundLineItems(first: 50) { nodes { id quantity restockType location { id } lineItem { id } } }
    }
  }
}
"""


# --- The inventory push (operations/sync/push.py); stocking an item at a location serves drift repairs too.

PUSH_INVENTORY = """
mutation PushInventory($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

STOCK_ITEM_AT_LOCATION = """
mutation StockItemAtLocation($item: ID!, $location: ID!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location) {
    inventoryLevel { id }
    userErrors { field message }
  }
}
"""


# --- The drift check's export of every level (operations/drift/check.py).

# Rooted at inventoryItems so levels sit at connection depth 2; each level names its item and
# location itself, so no line needs its parent to be read first (groupObjects: false shuffles them).
LEVELS_EXPORT = """
{
  inventoryItems {
    edges { node {
      __typename id
      inventoryLevels {
        edges { node {
          __typename id
          item { id }
          location { id }
          quantities(names: ["available", "committed", "reserved", "damaged", "on_hand"]) { name quantity }
        } }
      }
    } }
  }
}
"""


# --- Repairing drift (operations/drift/repair.py).

REPAIR_DRIFT = """
mutation RepairDrift($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

REPAIR_DAMAGED_DRIFT = """
mutation RepairDamagedDrift($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""


# --- Catalog edits and customers made in Branchline (operations/sync/shop_writes.py). Neither mutation takes
# @idempotent, so each send first reads what Shopify holds and sends only what still differs.

CATALOG_STATE = """
query CatalogState($product: ID!, $variants: [ID!]!) {
  product(id: $product) { id title updatedAt options { name position } }
  nodes(ids: $variants) {
    ... on ProductVariant {
      id price compareAtPrice sku barcode updatedAt selectedOptions { name value } product { id }
    }
  }
}
"""

UPDATE_VARIANTS = """
mutation UpdateVariants($product: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $product, variants: $variants) {
    productVariants { id updatedAt }
    userErrors { field message code }
  }
}
"""

UPDATE_PRODUCT = """
mutation UpdateProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id updatedAt }
    userErrors { field message }
  }
}
"""

FIND_CUSTOMERS = """
query FindCustomers($query: String!) {
  customers(first: 5, query: $query) { nodes { id email phone firstName lastName } }
}
"""

CREATE_CUSTOMER = """
mutation CreateCustomer($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer { id }
    userErrors { field message }
  }
}
"""
