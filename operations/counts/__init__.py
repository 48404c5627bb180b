"""Stock counts: counting, review, and what a count shows."""
