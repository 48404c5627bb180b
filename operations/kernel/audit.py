"""The audit log: who did what sensitive thing, where, and who approved it."""

from typing import Any

from models.staff import AuditEntry
from operations.kernel.access import Actor


async def record(
    actor: Actor,
    action: str,
    *,
    branch_id: int | None = None,
    target: tuple[str, Any] | None = None,
    approved_by: int | None = None,
    **detail: Any,
) -> AuditEntry:
    """Write inside the operation's transaction, so an action that rolls back leaves no entry."""
    return await AuditEntry.create(
        actor_staff_id=actor.staff_id,
        actor=actor.label,
        action=action,
        branch_id=branch_id,
        target_type=target[0] if target else None,
        target_id=str(target[1]) if target else None,
        approved_by_staff_id=approved_by,
        detail={k: v if isinstance(v, int | float | bool | None) else str(v) for k, v in detail.items()},
    )
