"""The kernel every context builds on: transactions, SQL, errors, idempotency, keys and secrets, who may do what,
guess limits, the audit log, and the installed settings (the selling policy and every context's settings).
"""
