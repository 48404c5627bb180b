"""Everything that talks to Shopify: the connection, locations, the catalog import, the webhook inbox and its
handlers, the inventory push, order actions and their calls, the claiming, leases, backoff and parking their
queues share (queue.py), order edits, the orders poll, recovery of what webhooks missed, and what waits for a
person.
"""
