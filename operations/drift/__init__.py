"""Drift between Branchline and Shopify: the check, what explains a difference, repairs, and the signals Shopify
sends.
"""
