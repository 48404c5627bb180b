"""Who and what the shop is made of: branches and counters, staff and their PINs, the catalog."""
