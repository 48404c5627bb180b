"""The counter: checkout, pricing, receipts, drafts, offline uploads, returns, exchanges, registers and their
reports.
"""
