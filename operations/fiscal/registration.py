"""Registering counters with the authority, which authority a branch reports to, and the authorities' tokens.

A counter's POSID comes from the authority's POS Client Registration (one per counter, docs/fbr.md); only a
registered counter's sales are reported. Tokens are kept encrypted (operations/kernel/secrets.py, purpose
`fiscal`), are never logged or returned, and are fingerprinted only as digests for idempotent replays.
"""

from fbr.invoice import pos_id_problem
from models.branches import Branch, Counter
from models.fiscal import FiscalAuthority, FiscalCredential
from operations.kernel import (
    Actor,
    ErrorCode,
    OperationError,
    Permission,
    Problems,
    decrypt_secret,
    encrypt_secret,
    record_audit,
    reencrypt_secret,
    require,
    run_once,
    token_digest,
    transaction,
)

SECRET_PURPOSE = "fiscal"
MAX_TOKEN = 500


async def set_counter_fiscal_registration(
    actor: Actor, counter_id: int, pos_id: str | None, registered: bool, idempotency_key: str
) -> Counter:
    """Give a counter its POSID and say whether its sales are reported (registered needs a POSID). A malformed
    POSID is INVALID (field posId). Admins and owners (MANAGE_INTEGRATIONS), audited."""
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    pos = (pos_id or "").strip() or None
    if pos is not None and (problem := pos_id_problem(pos)):
        problems.add(ErrorCode.INVALID, problem, "posId")
    if registered and pos is None:
        problems.add(ErrorCode.INVALID, "a registered counter needs its POSID", "posId")
    counter = await Counter.get_or_none(id=counter_id)
    if counter is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "counter does not exist", "counterId")
    require(actor, Permission.MANAGE_INTEGRATIONS, counter.branch_id)
    problems.raise_if_any()
    request = {"counter": counter_id, "posId": pos, "registered": registered}

    async def register() -> Counter:
        taken = await Counter.filter(fiscal_pos_id=pos).exclude(id=counter_id).first() if pos else None
        if taken is not None:
            raise OperationError.single(ErrorCode.DUPLICATE, f"counter {taken.code} has this POSID", "posId")
        await Counter.filter(id=counter_id).update(fiscal_pos_id=pos, fiscal_registered=registered)
        await record_audit(
            actor,
            "counter.fiscal_registration",
            branch_id=counter.branch_id,
            target=("counter", counter_id),
            pos_id=pos or "",
            registered=registered,
        )
        return await Counter.get(id=counter_id)

    async with transaction() as tx:
        done, _ = await run_once(
            tx, "setCounterFiscalRegistration", idempotency_key, request, register, lambda pk: Counter.get(id=pk)
        )
    return done


async def set_branch_fiscal_authority(
    actor: Actor, branch_id: int, authority: FiscalAuthority, idempotency_key: str
) -> Branch:
    """FBR (goods) or PRA (Punjab services): where the branch's invoices go. Never both (docs/fbr.md)."""
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    problems.raise_if_any()
    branch = await Branch.get_or_none(id=branch_id)
    if branch is None:
        raise OperationError.single(ErrorCode.NOT_FOUND, "branch does not exist", "branchId")
    require(actor, Permission.MANAGE_INTEGRATIONS, branch_id)

    async def change() -> Branch:
        await Branch.filter(id=branch_id).update(fiscal_authority=authority.value)
        await record_audit(
            actor, "branch.fiscal_authority", branch_id=branch_id, target=("branch", branch_id), authority=authority
        )
        return await Branch.get(id=branch_id)

    async with transaction() as tx:
        request = {"branch": branch_id, "authority": authority.value}
        done, _ = await run_once(
            tx, "setBranchFiscalAuthority", idempotency_key, request, change, lambda pk: Branch.get(id=pk)
        )
    return done


async def set_fiscal_token(
    actor: Actor, authority: FiscalAuthority, token: str, idempotency_key: str
) -> FiscalCredential:
    """Store (or replace) the Bearer token one authority issued this retailer, encrypted at rest; the audit log
    names the authority only."""
    require(actor, Permission.MANAGE_INTEGRATIONS)
    problems = Problems()
    problems.check_key(idempotency_key, required=True)
    token = token.strip()
    if not token or len(token) > MAX_TOKEN or any(ch.isspace() for ch in token):
        problems.add(ErrorCode.INVALID, f"token must be 1–{MAX_TOKEN} characters without spaces", "token")
    problems.raise_if_any()
    request = {"authority": authority.value, "token": token_digest(token)}

    async def store() -> FiscalCredential:
        encrypted = encrypt_secret(token, SECRET_PURPOSE)
        credential = await FiscalCredential.get_or_none(authority=authority)
        if credential is None:
            credential = await FiscalCredential.create(authority=authority, token_encrypted=encrypted)
        else:
            credential.token_encrypted = encrypted
            await credential.save()
        await record_audit(actor, "fiscal.token_set", target=("fiscal_credential", credential.id), authority=authority)
        return credential

    async with transaction() as tx:
        done, _ = await run_once(
            tx, "setFiscalToken", idempotency_key, request, store, lambda pk: FiscalCredential.get(id=pk)
        )
    return done


async def token_for(authority: FiscalAuthority) -> str | None:
    """The decrypted token, in memory only, for the worker's next post."""
    credential = await FiscalCredential.get_or_none(authority=authority)
    return decrypt_secret(credential.token_encrypted, SECRET_PURPOSE) if credential else None


async def reencrypt_fiscal_tokens() -> int:
    """After a server secret rotation: rewrite the stored tokens under the current one."""
    rewritten = 0
    for credential in await FiscalCredential.all():
        await FiscalCredential.filter(id=credential.id).update(
            token_encrypted=reencrypt_secret(credential.token_encrypted, SECRET_PURPOSE)
        )
        rewritten += 1
    return rewritten
