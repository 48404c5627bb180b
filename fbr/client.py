"""Posting one invoice to the authority (FBR IMS or PRA's IMS, cloud or the local fiscal component).

One call, one answer, and an exception that tells the caller what it may do next:

* ``FiscalAnswer`` — HTTP 2xx, ``Code == "100"`` and an invoice number: the invoice is fiscalised.
* ``FiscalUnreachable`` — no usable answer (connection refused, timeout, dropped connection, 5xx,
  throttling, an answer that does not parse). Post again later **with the same USIN**. ``maybe_recorded``
  says whether the authority may have recorded it (the request may have reached it); when False the
  request never left this machine.
* ``FiscalRefused`` — a definite no (``Code`` other than "100", a gateway ``fault`` such as a bad token,
  another 4xx). Posting the same body again will get the same no; fix the data or the configuration.
  ``FiscalDuplicate`` is the refusal of a USIN the authority already holds (see ``DUPLICATE_CODES``).

The client never retries by itself (the caller's queue owns backoff) and never logs or echoes the token.
The IMS has no documented call that asks whether a USIN was recorded, so there is no lookup here: the only
way to learn the fate of a lost answer is to post the same USIN again (docs/fbr.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

log = logging.getLogger("fbr.client")

# Endpoints (the whole PostData URL is the client's ``base_url``).
FBR_SANDBOX_URL = "https://esp.fbr.gov.pk:8244/FBR/v1/api/Live/PostData"
FBR_PRODUCTION_URL = "https://gw.fbr.gov.pk/imsp/v1/api/Live/PostData"
PRA_SANDBOX_URL = "https://ims.pral.com.pk/ims/sandbox/api/Live/PostData"
PRA_PRODUCTION_URL = "https://ims.pral.com.pk/ims/production/api/Live/PostData"
LOCAL_COMPONENT_URL = "http://localhost:8524/api/IMSFiscal/GetInvoiceNumberByModel"  # no token

SUCCESS_CODE = "100"
NOT_AVAILABLE = "Not Available"  # the invoice number the IMS sends back when it issued none
# No IMS error catalogue is public and a repeated USIN's answer is undocumented. "103" is the simulator's
# (invented) duplicate code; a caller that learns the real one passes it as ``duplicate_codes``.
DUPLICATE_CODES = frozenset({"103"})
# WSO2 gateway throttling ("Message throttled out"): a wait helps, so it counts as unreachable.
# Request Timeout, Too Early, Too Many Requests: the same request can succeed later.
RETRYABLE_4XX = frozenset({408, 425, 429})
THROTTLED_FAULTS = frozenset({"900800", "900802", "900803", "900804", "900806", "900807"})


class FiscalError(Exception):
    code = "FISCAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FiscalUnreachable(FiscalError):
    """No usable answer. ``reason``: CONNECT, TIMEOUT, DROPPED, HTTP_5xx, THROTTLED or MALFORMED."""

    code = "FISCAL_UNREACHABLE"

    def __init__(
        self, message: str, *, reason: str, maybe_recorded: bool, status: int | None = None, raw: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.maybe_recorded = maybe_recorded
        self.status = status
        self.raw = raw

    def __repr__(self) -> str:
        return f"FiscalUnreachable(reason={self.reason!r}, maybe_recorded={self.maybe_recorded}, status={self.status})"


class FiscalRefused(FiscalError):
    """A definite refusal. ``code`` (also ``refusal_code``) is the IMS ``Code`` (e.g. "102"), the gateway
    fault code (e.g. "900901") or ``HTTP_<status>`` when the answer carried neither."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        errors: tuple[str, ...] = (),
        raw: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = self.refusal_code = code
        self.status = status
        self.errors = errors
        self.raw = raw

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.refusal_code!r}, status={self.status}, message={self.message!r})"


class FiscalDuplicate(FiscalRefused):
    """The authority already holds this USIN and said so instead of answering with its number."""


@dataclass(frozen=True)
class FiscalAnswer:
    invoice_number: str
    code: str
    response: str  # the authority's "Response" text
    raw: str  # the body as received, for the record
    status: int = 200
    errors: tuple[str, ...] = ()  # "Errors" on a success answer (kept, not acted on)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _get(body: dict, *names: str) -> Any:
    """The first of ``names`` present, compared case-insensitively (components differ in casing)."""
    lowered = {k.lower(): v for k, v in body.items() if isinstance(k, str)}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _errors(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, list):
        return tuple(_text(e if not isinstance(e, dict) else json.dumps(e, sort_keys=True)) for e in value)
    if isinstance(value, dict):
        return (json.dumps(value, sort_keys=True),)
    return (_text(value),)


def _parse(raw: bytes) -> Any:
    # The stdlib parser: fiscal numbers sent as JSON numbers can exceed 64 bits (20 digits).
    return json.loads(raw.decode("utf-8"))


class FiscalClient:
    """``base_url`` is the whole PostData URL (``FBR_PRODUCTION_URL``, a simulator's, ...); ``token`` the
    Bearer token ("" for the local fiscal component, which takes none)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        http: httpx.AsyncClient | None = None,
        duplicate_codes: Collection[str] = DUPLICATE_CODES,
    ) -> None:
        self.url = base_url
        self._token = token
        self.timeout = timeout
        self.duplicate_codes = frozenset(duplicate_codes)
        self._http = http
        self._owned: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"FiscalClient(url={self.url!r}, token={'***' if self._token else ''!r}, timeout={self.timeout})"

    async def __aenter__(self) -> FiscalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned is not None:
            await self._owned.aclose()
            self._owned = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is not None:
            return self._http
        if self._owned is None:
            self._owned = httpx.AsyncClient(timeout=self.timeout)
        return self._owned

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    async def post_invoice(self, post_data: dict) -> FiscalAnswer:
        usin = post_data.get("USIN")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = await self._client().post(
                self.url, content=orjson.dumps(post_data), headers=headers, timeout=self.timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise self._unreachable(usin, "CONNECT", f"could not connect: {type(exc).__name__}", sent=False) from None
        except httpx.TimeoutException as exc:
            message = f"no answer within {self.timeout}s ({type(exc).__name__})"
            raise self._unreachable(usin, "TIMEOUT", message) from None
        except httpx.TransportError as exc:
            raise self._unreachable(usin, "DROPPED", f"connection lost: {type(exc).__name__}") from None
        return self._read(usin, response)

    def _unreachable(
        self, usin: Any, reason: str, message: str, *, sent: bool = True, status: int | None = None, raw: str = ""
    ) -> FiscalUnreachable:
        message = self._scrub(message)
        log.warning("fiscal post of USIN %s: %s (%s)", usin, reason, message)
        return FiscalUnreachable(message, reason=reason, maybe_recorded=sent, status=status, raw=self._scrub(raw))

    def _read(self, usin: Any, response: httpx.Response) -> FiscalAnswer:
        status = response.status_code
        raw = self._scrub(response.text[:20000])
        try:
            body = _parse(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            body = None

        fault = _get(body, "fault") if body else None
        if isinstance(fault, dict):
            fault_code = _text(fault.get("code"))
            message = " ".join(x for x in (_text(fault.get("message")), _text(fault.get("description"))) if x)
            if fault_code in THROTTLED_FAULTS or status == 429:
                raise self._unreachable(usin, "THROTTLED", message or "throttled", status=status, raw=raw)
            if status in RETRYABLE_4XX:
                raise self._unreachable(usin, f"HTTP_{status}", message or f"HTTP {status}", status=status, raw=raw)
            if status >= 500:
                raise self._unreachable(usin, f"HTTP_{status}", message or "gateway error", status=status, raw=raw)
            raise self._refused(usin, fault_code or f"HTTP_{status}", message or "gateway refused", status, (), raw)

        if status >= 500 or status in RETRYABLE_4XX:
            reason = "THROTTLED" if status == 429 else f"HTTP_{status}"
            raise self._unreachable(usin, reason, f"HTTP {status}", status=status, raw=raw)
        if body is None:
            if 200 <= status < 300:
                raise self._unreachable(usin, "MALFORMED", "the answer is not a JSON object", status=status, raw=raw)
            text = self._scrub(response.text.strip()[:300]) or f"HTTP {status}"
            raise self._refused(usin, f"HTTP_{status}", text, status, (), raw)

        code = _text(_get(body, "Code"))
        message = _text(_get(body, "Response", "Message"))
        errors = tuple(self._scrub(e) for e in _errors(_get(body, "Errors")))
        number = _text(_get(body, "InvoiceNumber", "FBRInvoiceNumber"))
        if not (200 <= status < 300):
            raise self._refused(usin, code or f"HTTP_{status}", message or f"HTTP {status}", status, errors, raw)
        if not code:
            raise self._unreachable(usin, "MALFORMED", "the answer has no Code", status=status, raw=raw)
        if code != SUCCESS_CODE:
            raise self._refused(usin, code, message or f"Code {code}", status, errors, raw)
        if not number or number.lower() == NOT_AVAILABLE.lower() or len(number) > 30:
            # Code 100 without a usable number: nothing to print; the same USIN is posted again later.
            raise self._unreachable(usin, "MALFORMED", "Code 100 without an invoice number", status=status, raw=raw)
        log.info("fiscal post of USIN %s: invoice number %s", usin, number)
        return FiscalAnswer(
            invoice_number=number, code=code, response=self._scrub(message), raw=raw, status=status, errors=errors
        )

    def _refused(
        self, usin: Any, code: str, message: str, status: int, errors: tuple[str, ...], raw: str
    ) -> FiscalRefused:
        message = self._scrub(message)
        if errors:
            message = f"{message}: {'; '.join(errors)}"
        log.warning("fiscal post of USIN %s refused: %s %s", usin, code, message)
        kind = FiscalDuplicate if code in self.duplicate_codes else FiscalRefused
        return kind(code, message, status=status, errors=errors, raw=raw)
