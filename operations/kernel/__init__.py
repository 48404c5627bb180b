"""The kernel every context builds on: transactions, SQL, errors, idempotency, keys and secrets, who may do what,
guess limits, the audit log, and the installed settings (the selling policy and every context's settings).
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.kernel.access import (
    ALL_BRANCH_ROLES,
    ANONYMOUS,
    ROLE_PERMISSIONS,
    SYSTEM,
    AccessDenied,
    Actor,
    Permission,
    require,
    require_signed_in,
    staff_id_of,
    visible_branches,
)
from operations.kernel.attempts import (
    PASSWORD_FOR_ACCOUNT_FROM_ADDRESS,
    PASSWORD_FROM_ADDRESS,
    PIN_AT_BRANCH,
    PIN_AT_COUNTER,
    Locked,
    locked_error,
)
from operations.kernel.attempts import guess as take_guess
from operations.kernel.audit import record as record_audit
from operations.kernel.errors import ErrorCode, OperationError, Problem, Problems
from operations.kernel.idempotency import earlier_document, fingerprint, first_or_run, replay, run_once
from operations.kernel.keys import generate_secret, pin_digest, pin_digests, secret_problem, token_digest
from operations.kernel.passwords import PRODUCTION as PRODUCTION_HASHING
from operations.kernel.passwords import hash_password
from operations.kernel.passwords import verify as verify_password
from operations.kernel.secrets import SecretUnreadable
from operations.kernel.secrets import decrypt as decrypt_secret
from operations.kernel.secrets import encrypt as encrypt_secret
from operations.kernel.secrets import reencrypt as reencrypt_secret
from operations.kernel.settings import (
    DEVELOPMENT_SECRET,
    DomainSettings,
    InboxSettings,
    LoyaltySettings,
    OnlineOrders,
    PasswordHashing,
    PinRules,
    PushSettings,
    SalesPolicy,
    SecretKeys,
    ShopifySettings,
)
from operations.kernel.settings import current as current_settings
from operations.kernel.settings import install as install_settings
from operations.kernel.settings import installed as settings_installed
from operations.kernel.sql import db_decimal, db_time, fetch, insert_rows, is_sqlite, json_value, read_time
from operations.kernel.transactions import Transaction, transaction

__all__ = [
    "ALL_BRANCH_ROLES",
    "ANONYMOUS",
    "DEVELOPMENT_SECRET",
    "PASSWORD_FOR_ACCOUNT_FROM_ADDRESS",
    "PASSWORD_FROM_ADDRESS",
    "PIN_AT_BRANCH",
    "PIN_AT_COUNTER",
    "PRODUCTION_HASHING",
    "ROLE_PERMISSIONS",
    "SYSTEM",
    "AccessDenied",
    "Actor",
    "DomainSettings",
    "ErrorCode",
    "InboxSettings",
    "Locked",
    "LoyaltySettings",
    "OnlineOrders",
    "OperationError",
    "PasswordHashing",
    "Permission",
    "PinRules",
    "Problem",
    "Problems",
    "PushSettings",
    "SalesPolicy",
    "SecretKeys",
    "SecretUnreadable",
    "ShopifySettings",
    "Transaction",
    "current_settings",
    "db_decimal",
    "db_time",
    "decrypt_secret",
    "earlier_document",
    "encrypt_secret",
    "fetch",
    "fingerprint",
    "first_or_run",
    "generate_secret",
    "hash_password",
    "insert_rows",
    "install_settings",
    "is_sqlite",
    "json_value",
    "locked_error",
    "pin_digest",
    "pin_digests",
    "read_time",
    "record_audit",
    "reencrypt_secret",
    "replay",
    "require",
    "require_signed_in",
    "run_once",
    "secret_problem",
    "settings_installed",
    "staff_id_of",
    "take_guess",
    "token_digest",
    "transaction",
    "verify_password",
    "visible_branches",
]
