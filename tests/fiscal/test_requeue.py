"""requeueFiscal runs once per idempotency key: a repeat answers the first count and requeues nothing again, the
same key for another request is refused, and a branch's requeue leaves the other branches' parked rows alone."""

import asyncio

import pytest

from fbr.simulator import DuplicateMode
from models.fiscal import FiscalDocument, FiscalKind, FiscalStatus
from models.outbox import OutboxRow
from models.staff import AuditEntry
from operations.fiscal import drain_fiscal, requeue_fiscal
from operations.kernel import RepeatedUsin
from operations.kernel.access import SYSTEM
from operations.kernel.errors import ErrorCode, OperationError
from schema.ids import global_id
from tests.factories import make_branch
from tests.fiscal.test_reporting import sell

REQUEUE = """mutation($input: RequeueFiscalInput!) { requeueFiscal(input: $input) {
  requeued errors { field code } } }"""


async def park_one(fshop, change_settings, key="sale-1"):
    """A sale whose answer is lost, then refused as a duplicate with the setting `park`: REFUSED and parked."""
    change_settings(fiscal={"repeated_usin": RepeatedUsin.PARK})
    fshop.sim.authority.configure(duplicate_mode=DuplicateMode.REFUSE)
    fshop.sim.authority.faults.lose_answer_next(1, how="drop")
    sale = await sell(fshop, key=key)
    await drain_fiscal(10)
    assert await status(sale) is FiscalStatus.REFUSED
    return sale


async def status(sale) -> FiscalStatus:
    return (await FiscalDocument.get(sale_id=sale.id, kind=FiscalKind.INVOICE)).status


async def test_a_repeated_requeue_requeues_nothing_twice(fshop, change_settings):
    sale = await park_one(fshop, change_settings)
    assert await requeue_fiscal(SYSTEM, "rq-1") == (1, False)
    assert await status(sale) is FiscalStatus.PENDING
    assert await OutboxRow.filter(status="parked").count() == 0

    await drain_fiscal(10)  # refused as a duplicate again: parked again
    assert await status(sale) is FiscalStatus.REFUSED
    # The retry of the first request answers its count and touches nothing: the row stays parked.
    assert await requeue_fiscal(SYSTEM, "rq-1") == (1, True)
    assert await status(sale) is FiscalStatus.REFUSED
    assert await OutboxRow.filter(status="parked").count() == 1
    assert await AuditEntry.filter(action="fiscal.requeued").count() == 1

    with pytest.raises(OperationError) as refused:
        await requeue_fiscal(SYSTEM, "rq-1", branch_id=fshop.branch.id)
    assert refused.value.problems[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert await OutboxRow.filter(status="parked").count() == 1

    # Another branch's requeue leaves this branch's row parked; this branch's takes it.
    other = await make_branch("ISB")
    assert await requeue_fiscal(SYSTEM, "rq-2", branch_id=other.id) == (0, False)
    assert await OutboxRow.filter(status="parked").count() == 1
    assert await requeue_fiscal(SYSTEM, "rq-3", branch_id=fshop.branch.id) == (1, False)
    assert await status(sale) is FiscalStatus.PENDING


async def test_requeue_fiscal_over_graphql_replays_and_refuses_a_reused_key(api, fshop, change_settings):
    sale = await park_one(fshop, change_settings)
    request = {"input": {"idempotencyKey": "q1"}}
    first = await api(REQUEUE, request)
    assert first["requeueFiscal"] == {"requeued": 1, "errors": []}
    await drain_fiscal(10)
    assert await api(REQUEUE, request) == first  # replayed: the row parked again stays parked
    assert await status(sale) is FiscalStatus.REFUSED
    branch = str(global_id("Branch", fshop.branch.id))
    reused = await api(REQUEUE, {"input": {"idempotencyKey": "q1", "branchId": branch}})
    assert reused["requeueFiscal"]["errors"] == [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]
    missing = await api(REQUEUE, {"input": {"idempotencyKey": ""}})
    assert missing["requeueFiscal"]["errors"][0]["field"] == "idempotencyKey"
    assert await AuditEntry.filter(action="fiscal.requeued").count() == 1


async def test_two_requeues_at_once_under_one_key_apply_once(fshop, change_settings):
    await park_one(fshop, change_settings)
    results = await asyncio.gather(requeue_fiscal(SYSTEM, "rq-x"), requeue_fiscal(SYSTEM, "rq-x"))
    assert sorted(results) == [(1, False), (1, True)]
    assert await AuditEntry.filter(action="fiscal.requeued").count() == 1
