"""Branchline's Python client: typed methods generated from queries/*.graphql, plus sign-in and live stock.

    from branchline_client import BranchlineClient
    async with BranchlineClient("http://127.0.0.1:8000/graphql") as bl:
        await bl.sign_in("owner@example.pk", "...")
        variants = await bl.variants(first=50)

docs/partners.md has worked examples; docs/api.md explains the API itself.
"""

from . import enums, input_types
from . import generated as types
from .client import BranchlineClient, change_of, local_day
from .errors import AuthError, BranchlineError, ConnectionLost
from .generated import UserErrorFields as UserError

__all__ = [
    "AuthError",
    "BranchlineClient",
    "BranchlineError",
    "ConnectionLost",
    "UserError",
    "change_of",
    "enums",
    "input_types",
    "local_day",
    "types",
]
