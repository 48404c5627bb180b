"""Purchasing: suppliers, purchase orders, goods received, valuation at weighted average cost."""
