"""What generation cannot give: signing in, and live stock that survives disconnects.

Every generated operation is a method of `BranchlineClient` (queries/*.graphql → generated/client.py):
`variants`, `variant_stock`, `stock_levels`, `stock_movements`, `adjust_stock`, `sales`, `returns`,
`orders`, `sales_report`, `day_close`, `stock_value_report`, `start_export`, `export_progress`, `sync_status`,
`stock_changed`, `order_events`... This class adds `sign_in`, `counter_sign_in`, `movements_after`,
`current_sequence`, `live_stock`, `finished_export` and `download_export`; `local_day` gives a branch's today or
yesterday for the reports.
"""

import asyncio
import random
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from .errors import AuthError, BranchlineError, ConnectionLost
from .generated import GeneratedClient, LoginInput, StockChangeFields, UserErrorFields
from .generated.enums import ExportStatus
from .generated.fragments import MovementFields, ReportExportFields, StaffSummary
from .generated.input_types import CounterLoginInput


def _refused(what: str, errors: list[UserErrorFields]) -> AuthError:
    first = errors[0] if errors else None
    return AuthError(
        code=first.code.value if first else "UNAUTHENTICATED",
        message=f"{what}: {first.message if first else 'no token'}",
        errors=[e.model_dump(by_alias=True, mode="json") for e in errors],
    )


def change_of(movement: MovementFields) -> StockChangeFields:
    """A ledger movement as the live stream's event (what `live_stock` yields after catching up)."""
    return StockChangeFields.model_validate(
        {
            "branchId": movement.branch.id,
            "variantId": movement.variant.id,
            "movementId": movement.id,
            "sku": movement.variant.sku,
            "bucket": movement.bucket,
            "delta": movement.delta,
            "reason": movement.reason.value.lower(),  # the stream says "sale" where the ledger's enum says SALE
            "sequence": movement.sequence,
            "onHand": movement.on_hand,
            "reserved": movement.reserved,
            "available": movement.available,
            "inTransit": movement.in_transit,
            "damaged": movement.damaged,
            "occurredAt": movement.occurred_at,
        }
    )


def local_day(timezone: str, days_ago: int = 0, *, now: datetime | None = None) -> date:
    """Today (`days_ago=1`: yesterday) on the calendar of a branch in `timezone` (`Branch.timezone`, e.g.
    "Asia/Karachi"): the day the reports' `from`/`to` mean. The machine's own date can be another day: a
    server in UTC at 21:00 is already tomorrow in Karachi."""
    moment = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone))
    return moment.date() - timedelta(days=days_ago)


class _Lost:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class BranchlineClient(GeneratedClient):
    """`async with BranchlineClient("https://pos.example.pk/graphql") as bl: await bl.sign_in(email, password)`"""

    async def sign_in(self, email: str, password: str) -> StaffSummary:
        """Sign in with email and password; the token is kept and sent with every call from now on.
        Raises AuthError (code INVALID_CREDENTIALS, TOO_MANY_ATTEMPTS...) when refused."""
        answer = (await self.login(LoginInput(email=email, password=password))).login
        if answer.token is None or answer.staff is None:
            raise _refused("sign-in refused", answer.errors)
        self.token = answer.token
        return answer.staff

    async def counter_sign_in(self, counter_id: str, pin: str, staff_id: str | None = None) -> StaffSummary:
        """Sign in at a counter with a cashier's PIN: a counter session (that branch only, no administration)."""
        given = CounterLoginInput(counterId=counter_id, pin=pin, staffId=staff_id)
        answer = (await self.counter_login(given)).counter_login
        if answer.token is None or answer.staff is None:
            raise _refused("counter sign-in refused", answer.errors)
        self.token = answer.token
        return answer.staff

    async def movements_after(
        self, branch_id: str, after: int, variant_ids: list[str] | None = None
    ) -> list[MovementFields]:
        """The branch's movements with a sequence above `after`, oldest first (every page)."""
        out: list[MovementFields] = []
        cursor = str(after)
        while True:
            page = (
                await self.stock_movements(branch_id=branch_id, first=100, after=cursor, variant_ids=variant_ids)
            ).stock_movements
            out += [edge.node for edge in page.edges]
            if not page.page_info.has_next_page or page.page_info.end_cursor is None:
                return out
            cursor = page.page_info.end_cursor

    async def current_sequence(self, branch_id: str) -> int:
        """The branch's last stock sequence (0 before its first movement). Sequences run 1..N without holes,
        so "is there a movement after n" answers a binary search: about 2·log2(N) one-row reads."""

        async def any_after(n: int) -> bool:
            page = (await self.stock_movements(branch_id=branch_id, first=1, after=str(n))).stock_movements
            return bool(page.edges)

        if not await any_after(0):
            return 0
        high = 1
        while await any_after(high):  # the last sequence N is where "a movement after n" turns false
            high *= 2
        low = high // 2  # some movement after low (checked above or in the loop), none after high
        while high - low > 1:
            middle = (low + high) // 2
            if await any_after(middle):
                low = middle
            else:
                high = middle
        return high

    async def finished_export(self, export_id: str, *, every: float = 0.5) -> ReportExportFields:
        """Asks `exportProgress` every `every` seconds until the export is no longer RUNNING (DONE: it has a
        `download_url`; FAILED: `error` says why). To bound the wait: `async with asyncio.timeout(300): ...`."""
        while True:
            export = (await self.export_progress(id=export_id)).export_progress
            if export.status != ExportStatus.RUNNING:
                return export
            await asyncio.sleep(every)

    async def download_export(self, export_id: str) -> bytes:
        """A DONE export's file (CSV or XLSX bytes), through a fresh signed link (links last minutes; the file
        until the export expires). Raises BranchlineError: NOT_READY when it is not DONE, HTTP_<status> when
        the link is refused (HTTP_404: the file has expired)."""
        export = (await self.export_progress(id=export_id)).export_progress
        if export.status != ExportStatus.DONE or export.download_url is None:
            raise BranchlineError(code="NOT_READY", message=f"export {export_id} is {export.status.value}")
        async with httpx.AsyncClient(headers=self.headers, timeout=self.timeout) as http:
            answer = await http.get(export.download_url)
        if answer.status_code != 200:
            raise BranchlineError(code=f"HTTP_{answer.status_code}", message=answer.text[:200])
        return answer.content

    async def live_stock(
        self,
        branch_ids: Iterable[str],
        since: Mapping[str, int] | None = None,
        *,
        variant_ids: list[str] | None = None,
        reconcile_after: float = 30.0,
        settle: float = 1.0,
        max_backoff: float = 10.0,
    ) -> AsyncIterator[StockChangeFields]:
        """Every stock change at these branches, each exactly once and in each branch's sequence order,
        across disconnects.

        `since` maps a branch ID to the last sequence the caller has handled (keep it with your own data:
        `change.sequence` per `change.branch_id`); changes after it come first, from the ledger
        (stockMovements(after:)). A branch not in `since` starts at its current sequence: only what
        happens from now on. After any disconnect the iterator reconnects (with backoff), subscribes again
        and reads what it missed from the ledger before streaming on; a jump in a branch's sequence is
        filled from the ledger the same way, and when nothing arrives for `reconcile_after` seconds it
        asks the ledger once (with `variant_ids`, sequences seen are not contiguous: holes are found by
        reconnecting and by that idle check only).

        Why `settle`: the server starts each subscription from the branch's sequence when *it* subscribes, and
        a client cannot see that moment. A change committed between the client's catch-up read and the
        server's start is in neither; the next change at that branch reveals the hole, and the ledger read
        `settle` seconds after each (re)connect finds it in any case. Auth failures (an expired or
        revoked session: AuthError) and other GraphQL errors raise.
        """
        branches = list(dict.fromkeys(branch_ids))
        last: dict[str, int] = {b: since[b] for b in branches if since is not None and b in since}
        failures = 0
        while True:
            queue: asyncio.Queue[StockChangeFields | _Lost] = asyncio.Queue()
            pump = asyncio.create_task(self._pump(queue, branches, variant_ids))
            try:
                for branch in branches:
                    if branch not in last:
                        last[branch] = await self.current_sequence(branch)
                    for change in await self._missed(branch, last[branch], variant_ids):
                        last[branch] = change.sequence
                        yield change
                loop = asyncio.get_running_loop()
                settle_at, settled = loop.time() + settle, False  # one more read soon after (re)connecting
                while True:
                    if not settled and loop.time() >= settle_at:
                        settled = True
                        for branch in branches:
                            for change in await self._missed(branch, last[branch], variant_ids):
                                last[branch] = change.sequence
                                yield change
                    wait = reconcile_after if settled else max(0.0, settle_at - loop.time())
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=wait)
                    except TimeoutError:
                        if settled:  # quiet for reconcile_after: ask the ledger
                            for branch in branches:
                                for change in await self._missed(branch, last[branch], variant_ids):
                                    last[branch] = change.sequence
                                    yield change
                        continue
                    if isinstance(item, _Lost):
                        if not isinstance(item.error, ConnectionLost):
                            raise item.error
                        break
                    failures = 0
                    branch = item.branch_id
                    if branch not in last or item.sequence <= last[branch]:
                        continue  # seen already (from the ledger, or before a reconnect)
                    if variant_ids is None and item.sequence > last[branch] + 1:
                        for change in await self._missed(branch, last[branch], None, up_to=item.sequence - 1):
                            last[branch] = change.sequence
                            yield change
                    last[branch] = item.sequence
                    yield item
            except ConnectionLost:
                pass  # a catch-up read failed after its retries: reconnect and try again
            finally:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            failures += 1
            await asyncio.sleep(min(max_backoff, 0.2 * 2 ** min(failures, 8)) * (0.5 + random.random() / 2))

    async def _pump(
        self, queue: "asyncio.Queue[StockChangeFields | _Lost]", branches: list[str], variant_ids: list[str] | None
    ) -> None:
        try:
            async for event in self.stock_changed(branch_ids=branches, variant_ids=variant_ids):
                queue.put_nowait(event.stock_changed)
            queue.put_nowait(_Lost(ConnectionLost("the server ended the subscription")))
        except (BranchlineError, ConnectionLost) as error:
            queue.put_nowait(_Lost(error))

    async def _missed(
        self, branch: str, after: int, variant_ids: list[str] | None, up_to: int | None = None
    ) -> list[StockChangeFields]:
        movements = await self.movements_after(branch, after, variant_ids)
        return [change_of(m) for m in movements if up_to is None or m.sequence <= up_to]
