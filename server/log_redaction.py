"""Secrets never reach the logs: passwords, PINs, tokens, secrets and Authorization headers are
masked in every log record of the process, tracebacks included.

Installed as the logging record factory, so it applies to every logger (ours, Strawberry's,
uvicorn's, the ORM's) whatever handlers and formatters they are given later: uvicorn configures its
own loggers when it starts, after our logging setup has run.

What is masked is the value after a key that names a secret (`password`, `newPassword`, `pin`,
`managerPin`, `accessToken`, `client_secret`, `Authorization`, ...), in the shapes logs carry:
JSON `"password": "x"`, Python reprs `'password': 'x'`, GraphQL literals `password: "x"`, and
`password=x` (keyword arguments, query strings).
"""

import logging
import re
import traceback

MASK = "***"

_KEY = r"[A-Za-z0-9_-]*(?:password|passwd|pin|token|secret|authorization)"
_QUOTE = r"\\*[\"']?"  # a key may be quoted, and the quotes escaped once or more (JSON in a JSON string)
_VALUE = (
    r"\\*\"(?:[^\"\\]|\\.)*?\\*\""  # "double quoted" (also \"escaped\")
    r"|\\*'(?:[^'\\]|\\.)*?\\*'"  # 'single quoted'
    r"|(?:Bearer|Basic|Token)\s+[^\s,;&'\"}\]]+"  # an Authorization header's scheme and credentials
    r"|[^\s,;&'\"}\])]+"  # a bare word or number
)
_SECRET = re.compile(
    rf"(?P<key>(?<![A-Za-z0-9_]){_QUOTE}{_KEY}{_QUOTE})(?P<sep>\s*[:=]\s*)(?P<value>{_VALUE})",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m['key']}{m['sep']}{_masked(m['value'])}", text)


def _masked(value: str) -> str:
    # Keep the quotes, so a redacted JSON or repr still reads as one.
    quote = re.match(r"\\*[\"']", value)
    return f"{quote[0]}{MASK}{quote[0]}" if quote else MASK


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it to logging to report
        return
    if redact(message) != message and not _mask_arguments(record):
        record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters print `exc_text` when it is set: the traceback is formatted here, masked.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _mask_arguments(record: logging.LogRecord) -> bool:
    """Mask the format and its plain arguments one by one, keeping the record structured (uvicorn's
    access formatter reads its arguments); False when the secret only shows once they are joined."""
    if not (isinstance(record.msg, str) and isinstance(record.args, tuple) and record.args):
        return False
    if not all(a is None or isinstance(a, str | int | float) for a in record.args):
        return False
    msg = redact(record.msg)
    args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
    try:
        joined = msg % args
    except (TypeError, ValueError):
        return False
    if redact(joined) != joined:
        return False
    record.msg, record.args = msg, args
    return True


def install() -> None:
    """Mask secrets in every log record from now on (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_secrets", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    factory.redacts_secrets = True
    logging.setLogRecordFactory(factory)
