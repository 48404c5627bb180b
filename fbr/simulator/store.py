"""The simulated authority's state: tokens, registered POSIDs, the invoices it holds and every call it got.

`receive` is the whole decision for one PostData body, synchronous (no await between the duplicate check and
the store, so concurrent posts of one USIN are decided one after the other, as a database would)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from .config import LOCAL_POST, DuplicateMode, NumberStyle, SimConfig, path_for
from .faults import Faults
from .validate import check

PAKISTAN_TIME = timezone(timedelta(hours=5), "PKT")
NOT_AVAILABLE = "Not Available"
AUTHORITIES = ("fbr", "pra")
ENVIRONMENTS = ("sandbox", "production")

# Gateway (WSO2) faults, as the reference quotes them.
MISSING_CREDENTIALS = (
    401,
    900902,
    "Missing Credentials",
    "Required OAuth credentials not provided. Make sure your API invocation call has a header: "
    "'Authorization : Bearer ACCESS_TOKEN'",
)
INVALID_CREDENTIALS = (
    401,
    900901,
    "Invalid Credentials",
    "Access failure for API: {api}, version: v1 status: (900901) - Invalid Credentials. "
    "Make sure you have provided the correct security credentials",
)
FORBIDDEN = (
    403,
    900908,
    "Resource forbidden ",
    "Access failure for API: {api}, version: v1 status: (900908) - Resource forbidden. "
    "Check the token and the calling IP address",
)


def default_tokens() -> dict[str, tuple[str, str]]:
    return {f"sim-{a}-{e}-token": (a, e) for a in AUTHORITIES for e in ENVIRONMENTS}


@dataclass
class SimInvoice:
    authority: str
    environment: str
    pos_id: int
    usin: str
    invoice_number: str
    received_at: str  # ISO, Pakistan time
    payload: dict
    answers: int = 1  # how many posts of this USIN were answered with this number
    repeats: int = 0  # posts of this USIN after the first (answered or refused)
    differing_repeats: int = 0  # repeats whose body differed from the first

    def summary(self, *, payload: bool = True) -> dict:
        out = asdict(self)
        if not payload:
            out.pop("payload")
        return out


@dataclass
class Call:
    at: float
    route: str  # "fbr/sandbox", "local", ...
    usin: str | None
    pos_id: int | None
    status: int
    code: str | None
    outcome: str  # recorded, repeat, duplicate, refused, unregistered, auth, fault:<kind>


@dataclass
class SimAuthority:
    config: SimConfig = field(default_factory=SimConfig)
    faults: Faults = field(default_factory=Faults)
    tokens: dict[str, tuple[str, str]] = field(default_factory=default_tokens)
    # (authority, environment, POSID). The spec's sample sandbox POSID is registered in both sandboxes.
    pos_ids: set[tuple[str, str, int]] = field(
        default_factory=lambda: {("fbr", "sandbox", 110014), ("pra", "sandbox", 110014)}
    )
    invoices: dict[tuple[str, str, int, str], SimInvoice] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    sequences: dict[int, int] = field(default_factory=dict)
    public_url: str | None = None

    def __post_init__(self) -> None:
        self._release = asyncio.Event()

    # ------------------------------------------------------------------ setup
    def configure(self, **changes: Any) -> None:
        names = {f.name: f for f in fields(SimConfig)}
        for name, value in changes.items():
            if name not in names:
                raise ValueError(f"unknown setting {name!r}")
            current = getattr(self.config, name)
            if isinstance(current, DuplicateMode):
                value = DuplicateMode(value)
            elif isinstance(current, NumberStyle):
                value = NumberStyle(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(current, float):
                value = float(value)
            setattr(self.config, name, value)

    def register(self, pos_id: int, authority: str = "fbr", environment: str = "sandbox") -> None:
        _check_route(authority, environment)
        self.pos_ids.add((authority, environment, int(pos_id)))

    def unregister(self, pos_id: int, authority: str = "fbr", environment: str = "sandbox") -> None:
        self.pos_ids.discard((authority, environment, int(pos_id)))

    def token(self, authority: str = "fbr", environment: str = "sandbox") -> str:
        _check_route(authority, environment)
        return next(t for t, route in self.tokens.items() if route == (authority, environment))

    def post_url(self, authority: str = "fbr", environment: str = "sandbox") -> str:
        if self.public_url is None:
            raise RuntimeError("the simulator is not being served")
        return self.public_url + path_for(authority, environment)

    @property
    def local_url(self) -> str:
        if self.public_url is None:
            raise RuntimeError("the simulator is not being served")
        return self.public_url + LOCAL_POST

    # ------------------------------------------------------------------ inspection
    def invoices_for(self, usin: str, pos_id: int | None = None) -> list[SimInvoice]:
        return [i for i in self.invoices.values() if i.usin == usin and (pos_id is None or i.pos_id == pos_id)]

    def summary(self) -> dict:
        return {
            "invoices": len(self.invoices),
            "calls": len(self.calls),
            "config": {f.name: getattr(self.config, f.name) for f in fields(SimConfig)},
            "faults": self.faults.summary(),
            "registered": sorted([list(p) for p in self.pos_ids]),
        }

    # ------------------------------------------------------------------ hangs
    async def hold(self, seconds: float) -> None:
        """Wait `seconds`, or less when the simulator is stopping (so a hung request never delays teardown)."""
        try:
            await asyncio.wait_for(self._release.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def release_hangs(self) -> None:
        self._release.set()

    def rearm(self) -> None:
        self._release = asyncio.Event()

    def reset_faults(self) -> None:
        self.faults.reset()

    def reset(self) -> None:
        """Forget invoices, calls and faults (tokens, registrations and settings stay)."""
        self.invoices.clear()
        self.calls.clear()
        self.sequences.clear()
        self.faults.reset()

    # ------------------------------------------------------------------ the decision
    def authorize(self, route: tuple[str, str], authorization: str | None) -> tuple[int, dict] | None:
        """None when the Bearer token may use `route`; else the gateway's fault answer."""
        api = "/FBR/v1" if route[0] == "fbr" else "/ims"
        if not authorization or not authorization.lower().startswith("bearer "):
            return _fault(MISSING_CREDENTIALS, api)
        granted = self.tokens.get(authorization[7:].strip())
        if granted is None:
            return _fault(INVALID_CREDENTIALS, api)
        if granted != route:
            return _fault(FORBIDDEN, api)
        return None

    def receive(self, route: tuple[str, str], body: Any, now: datetime | None = None) -> tuple[dict, SimInvoice | None]:
        """The IMS answer (always HTTP 200) for one body, and the invoice it holds for it, if any."""
        authority, environment = route
        cfg = self.config
        ntn_field = "BuyerPNTN" if authority == "pra" else "BuyerNTN"
        problems, pos_id, usin = check(body, cfg, ntn_field=ntn_field)
        if problems:
            return self._refuse(route, pos_id, usin, cfg.invalid_code, cfg.invalid_message, problems, "refused"), None
        assert pos_id is not None  # check() reported it otherwise
        if cfg.require_registered_pos and (authority, environment, pos_id) not in self.pos_ids:
            message = f"POSID {pos_id} is not registered for {authority.upper()} {environment}"
            return self._refuse(
                route, pos_id, usin, cfg.invalid_code, cfg.invalid_message, [message], "unregistered"
            ), None
        key = (authority, environment, pos_id, usin)
        held = self.invoices.get(key)
        if held is not None:
            held.repeats += 1
            if body != held.payload:
                held.differing_repeats += 1
            if cfg.duplicate_mode == DuplicateMode.REFUSE:
                errors = [f"USIN {usin} was already received for POSID {pos_id}"]
                answer = self._refuse(
                    route, pos_id, usin, cfg.duplicate_code, cfg.duplicate_message, errors, "duplicate"
                )
                return answer, held
            held.answers += 1
            self._call(route, usin, pos_id, 200, "100", "repeat")
            return self._success(held.invoice_number), held
        if cfg.check_ref_usin_known and body.get("InvoiceType") in (2, 3):
            ref = body.get("RefUSIN")
            if not any(k[:2] == route and k[3] == ref for k in self.invoices):
                errors = [f"RefUSIN {ref} was never received"]
                return self._refuse(route, pos_id, usin, cfg.invalid_code, cfg.invalid_message, errors, "refused"), None
        now = now or datetime.now(PAKISTAN_TIME)
        invoice = SimInvoice(
            authority=authority,
            environment=environment,
            pos_id=pos_id,
            usin=usin,
            invoice_number=self._number(pos_id, now, environment),
            received_at=now.isoformat(timespec="seconds"),
            payload=body,
        )
        self.invoices[key] = invoice
        self._call(route, usin, pos_id, 200, "100", "recorded")
        return self._success(invoice.invoice_number), invoice

    def _number(self, pos_id: int, now: datetime, environment: str) -> str:
        seq = self.sequences.get(pos_id, 0) + 1
        self.sequences[pos_id] = seq
        if self.config.number_style == NumberStyle.SRO_1006:
            number = f"{pos_id}-{now:%d%m%y%H%M%S}-{seq:04d}"
        else:
            number = f"{pos_id}{now:%Y%m%d}{seq:06d}"
        if self.config.test_suffix and environment == "sandbox":
            number += "*test*"
        return number[:30]

    def _success(self, number: str) -> dict:
        if self.config.legacy_answers:
            value: int | str = int(number) if number.isdigit() else number
            return {"FBRInvoiceNumber": value, "Response": "Invoice received successfully", "Code": 100}
        return {"InvoiceNumber": number, "Code": "100", "Response": self.config.success_message, "Errors": None}

    def _refuse(
        self, route: tuple[str, str], pos_id: int | None, usin: str, code: str, message: str, errors: list, outcome: str
    ) -> dict:
        self._call(route, usin or None, pos_id, 200, code, outcome)
        return {"InvoiceNumber": NOT_AVAILABLE, "Code": code, "Response": message, "Errors": errors}

    def _call(
        self, route: tuple[str, str], usin: str | None, pos_id: int | None, status: int, code: str | None, outcome: str
    ) -> None:
        self.calls.append(Call(time.time(), "/".join(route), usin, pos_id, status, code, outcome))
        if len(self.calls) > self.config.max_calls:  # a long demo run keeps the latest
            del self.calls[: len(self.calls) - self.config.max_calls]

    def note(self, route: tuple[str, str], status: int, outcome: str, usin: str | None = None) -> None:
        """A call that never reached `receive` (auth, injected fault)."""
        self._call(route, usin, None, status, None, outcome)

    # ------------------------------------------------------------------ persistence (the demo's, between runs)
    def dump(self, path: str | Path) -> None:
        data = {
            "invoices": [i.summary() for i in self.invoices.values()],
            "sequences": {str(k): v for k, v in self.sequences.items()},
            "pos_ids": sorted([list(p) for p in self.pos_ids]),
        }
        Path(path).write_bytes(orjson.dumps(data))

    def load(self, path: str | Path) -> None:
        data = orjson.loads(Path(path).read_bytes())
        for raw in data.get("invoices", []):
            invoice = SimInvoice(**raw)
            self.invoices[(invoice.authority, invoice.environment, invoice.pos_id, invoice.usin)] = invoice
        self.sequences.update({int(k): v for k, v in data.get("sequences", {}).items()})
        self.pos_ids.update((a, e, int(p)) for a, e, p in data.get("pos_ids", []))


def _check_route(authority: str, environment: str) -> None:
    if authority not in AUTHORITIES or environment not in ENVIRONMENTS:
        raise ValueError(f"authority must be one of {AUTHORITIES} and environment one of {ENVIRONMENTS}")


def _fault(spec: tuple[int, int, str, str], api: str) -> tuple[int, dict]:
    status, code, message, description = spec
    return status, {"fault": {"code": code, "message": message, "description": description.format(api=api)}}
