"""The Admin API documents Branchline sends, in one place (API version pinned in shopify/client.py)."""

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
        id tracked
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
