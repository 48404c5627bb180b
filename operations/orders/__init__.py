"""Online orders: intake in one shape, routing, the steps people take, history and events, returns, exchanges,
fulfillment and matching Shopify's fulfillments.
"""
