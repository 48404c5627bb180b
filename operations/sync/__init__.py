"""Everything that talks to Shopify: the connection, locations, the catalog import, the webhook inbox and its
handlers, the inventory push, order actions and their calls, order edits, the orders poll, recovery of what
webhooks missed, and what waits for a person.
"""
