"""Who and what the shop is made of: branches and counters, staff and their PINs, the catalog."""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.directory.branches import (
    LocalDays,
    NewBranch,
    NewCounter,
    OnlineSettings,
    create_branch,
    create_counter,
    local_days,
    local_days_at,
    set_online_settings,
)
from operations.directory.catalog import (
    NewProduct,
    NewVariant,
    VariantRef,
    create_product,
    resolve_distinct_variants,
    resolve_variant_refs,
)
from operations.directory.pins import Approval, vouch
from operations.directory.staff import (
    NewStaff,
    SignedIn,
    authenticate,
    counter_login,
    create_first_owner,
    create_staff,
    login,
    logout,
)

__all__ = [
    "Approval",
    "LocalDays",
    "NewBranch",
    "NewCounter",
    "NewProduct",
    "NewStaff",
    "NewVariant",
    "OnlineSettings",
    "SignedIn",
    "VariantRef",
    "authenticate",
    "counter_login",
    "create_branch",
    "create_counter",
    "create_first_owner",
    "create_product",
    "create_staff",
    "local_days",
    "local_days_at",
    "login",
    "logout",
    "resolve_distinct_variants",
    "resolve_variant_refs",
    "set_online_settings",
    "vouch",
]
