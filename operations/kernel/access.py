"""Who may do what, where: roles, permissions and branch scope.

Checked here, in the domain, so GraphQL, webhooks and the CLI share one rule book. A refusal is
`AccessDenied` (a GraphQL error with code FORBIDDEN or UNAUTHENTICATED), not a business error.
"""

from dataclasses import dataclass
from enum import StrEnum

from models.staff import Role


class Permission(StrEnum):
    MANAGE_BRANCHES = "manage_branches"  # create branches, change their settings
    MANAGE_COUNTERS = "manage_counters"
    MANAGE_CATALOG = "manage_catalog"
    MANAGE_STAFF = "manage_staff"
    VIEW_STOCK = "view_stock"
    ADJUST_STOCK = "adjust_stock"
    SELL = "sell"  # checkout, drafts, open/close registers
    REFUND = "refund"  # returns and exchanges
    APPROVE = "approve"  # manager override: voids, large refunds and discounts, price overrides
    VIEW_SALES = "view_sales"
    VIEW_REPORTS = "view_reports"
    VIEW_AUDIT = "view_audit"
    # Connect or disconnect Shopify, run imports, map locations: the owner's keys to the shop.
    MANAGE_INTEGRATIONS = "manage_integrations"
    # Suppliers and purchase orders (costs included); receiving the goods is ADJUST_STOCK.
    PURCHASE = "purchase"


_ALL = frozenset(Permission)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL,
    Role.BRANCH_MANAGER: frozenset(
        _ALL - {Permission.MANAGE_BRANCHES, Permission.MANAGE_CATALOG, Permission.MANAGE_INTEGRATIONS}
    ),
    Role.CASHIER: frozenset({Permission.VIEW_STOCK, Permission.SELL, Permission.REFUND, Permission.VIEW_SALES}),
    Role.INVENTORY: frozenset(
        {Permission.VIEW_STOCK, Permission.ADJUST_STOCK, Permission.MANAGE_CATALOG, Permission.PURCHASE}
    ),
    Role.FINANCE: frozenset({Permission.VIEW_SALES, Permission.VIEW_REPORTS, Permission.VIEW_AUDIT}),
}
ALL_BRANCH_ROLES = {Role.OWNER, Role.ADMIN}
# A PIN opens a counter, not the back office: a session signed in with one never does these, whatever
# the role (an owner's PIN guessed at a till must not hand over staff, Shopify or the branches).
COUNTER_SESSION_NEVER = frozenset(
    {
        Permission.MANAGE_BRANCHES,
        Permission.MANAGE_COUNTERS,
        Permission.MANAGE_CATALOG,
        Permission.MANAGE_STAFF,
        Permission.MANAGE_INTEGRATIONS,
        Permission.VIEW_AUDIT,
        Permission.PURCHASE,
    }
)


class AccessDenied(Exception):
    def __init__(self, message: str, code: str = "FORBIDDEN"):
        super().__init__(message)
        self.code = code

    @property
    def extensions(self) -> dict[str, str]:
        # graphql-core copies an original error's `extensions` dict into the GraphQL error it makes,
        # wherever the refusal is raised: queries, mutations and subscription streams alike.
        return {"code": self.code}


@dataclass(frozen=True)
class Actor:
    """The caller of an operation: a signed-in staff member, or the system itself."""

    name: str
    staff_id: int | None = None
    role: Role | None = None
    branch_ids: frozenset[int] | None = None  # None: every branch
    counter_id: int | None = None  # set when signed in with a counter PIN
    session_id: int | None = None

    @property
    def label(self) -> str:
        return f"staff:{self.staff_id} ({self.name})" if self.staff_id else self.name

    def can(self, permission: Permission, branch_id: int | None = None) -> bool:
        if self.role is None:  # the system (demo seed, CLI, webhooks) is trusted
            return self.staff_id is None and self.name != ANONYMOUS.name
        if permission not in ROLE_PERMISSIONS[self.role]:
            return False
        if self.counter_id is not None and permission in COUNTER_SESSION_NEVER:
            return False
        return branch_id is None or self.branch_ids is None or branch_id in self.branch_ids


def staff_id_of(label: str | None) -> int | None:
    """The staff member a recorded actor label names (`Actor.label`: "staff:12 (Ayesha Khan)"); None when
    the system, Shopify or a worker acted."""
    if not label or not label.startswith("staff:"):
        return None
    number = label[len("staff:") :].split(" ", 1)[0]
    return int(number) if number.isdigit() else None


SYSTEM = Actor(name="system")
ANONYMOUS = Actor(name="anonymous")


def require(actor: Actor, permission: Permission, branch_id: int | None = None) -> None:
    if actor is ANONYMOUS or actor.name == ANONYMOUS.name:
        raise AccessDenied("sign in first: send Authorization: Bearer <token>", code="UNAUTHENTICATED")
    if not actor.can(permission, branch_id):
        where = f" at branch {branch_id}" if branch_id is not None else ""
        raise AccessDenied(f"{actor.label} may not {permission.value.replace('_', ' ')}{where}")


def require_signed_in(actor: Actor) -> None:
    if actor.name == ANONYMOUS.name:
        raise AccessDenied("sign in first: send Authorization: Bearer <token>", code="UNAUTHENTICATED")


def visible_branches(actor: Actor) -> frozenset[int] | None:
    """The branches this caller may see (None: all)."""
    require_signed_in(actor)
    return actor.branch_ids
