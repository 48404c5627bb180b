"""Channel names: one per branch and kind, so a counter hears only its own branch."""


def stock_channel(branch_id: int) -> str:
    return f"stock:{branch_id}"


def orders_channel(branch_id: int) -> str:
    return f"orders:{branch_id}"
