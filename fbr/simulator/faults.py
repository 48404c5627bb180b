"""Fault injection for the PostData endpoints: one-shot faults for the next n posts, plus two lasting states
(down, latency) for "the authority is down for a stretch, then slow". `apply` is the HTTP form."""

from __future__ import annotations

from dataclasses import dataclass, field

MALFORMED_KINDS = ("garbage", "html", "empty", "no_code", "not_available", "array")


@dataclass
class Fault:
    kind: str  # "fail", "hang", "slow", "malformed", "lose"
    status: int = 500
    seconds: float = 0.0
    how: str = ""  # malformed: one of MALFORMED_KINDS; lose: "drop" or "hang"
    record: bool = True  # malformed: store the invoice before mangling the answer


@dataclass
class Faults:
    queue: list[Fault] = field(default_factory=list)
    down: bool = False  # every post answers 503 until cleared
    down_status: int = 503
    latency: float = 0.0  # every post waits this long first (the answer still comes)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next n posts get a 5xx; nothing is recorded."""
        if status not in (500, 502, 503, 504):
            raise ValueError("status must be one of 500, 502, 503, 504")
        self.queue.extend(Fault("fail", status=status) for _ in range(n))

    def hang_next(self, n: int = 1, seconds: float = 30.0) -> None:
        """The next n posts hang (until `seconds` or the simulator stops) and then get a 504; nothing recorded."""
        self.queue.extend(Fault("hang", seconds=float(seconds)) for _ in range(n))

    def slow_next(self, n: int = 1, seconds: float = 0.2) -> None:
        """The next n posts wait `seconds`, then are handled normally (recorded even if the client gave up)."""
        self.queue.extend(Fault("slow", seconds=float(seconds)) for _ in range(n))

    def malformed_next(self, n: int = 1, how: str = "garbage", record: bool = True) -> None:
        """The next n answers are unusable (HTTP 200); with `record` the invoice was stored first."""
        if how not in MALFORMED_KINDS:
            raise ValueError(f"how must be one of {', '.join(MALFORMED_KINDS)}")
        self.queue.extend(Fault("malformed", how=how, record=bool(record)) for _ in range(n))

    def lose_answer_next(self, n: int = 1, how: str = "drop", seconds: float = 30.0) -> None:
        """The next n invoices are recorded, then the answer is lost: the connection drops mid-answer
        ("drop"), or the answer is held back `seconds` (or until the simulator stops) so the client times out
        ("hang")."""
        if how not in ("drop", "hang"):
            raise ValueError("how must be 'drop' or 'hang'")
        self.queue.extend(Fault("lose", how=how, seconds=float(seconds)) for _ in range(n))

    def set_down(self, down: bool = True, status: int = 503) -> None:
        if status not in (500, 502, 503, 504):
            raise ValueError("status must be one of 500, 502, 503, 504")
        self.down, self.down_status = bool(down), status

    def set_latency(self, seconds: float = 0.0) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self.latency = float(seconds)

    def take(self) -> Fault | None:
        return self.queue.pop(0) if self.queue else None

    def reset(self) -> None:
        self.queue.clear()
        self.down, self.down_status, self.latency = False, 503, 0.0

    def summary(self) -> dict:
        return {
            "pending": [f.kind + (f":{f.how}" if f.how else "") for f in self.queue],
            "down": self.down,
            "latency": self.latency,
        }

    def apply(self, spec: dict) -> None:
        """{"fail_next": {"n": 2, "status": 503}, "set_down": true, "lose_answer_next": 1, ...}."""
        allowed = (
            "fail_next",
            "hang_next",
            "slow_next",
            "malformed_next",
            "lose_answer_next",
            "set_down",
            "set_latency",
        )
        for name, arg in spec.items():
            if name not in allowed:
                raise ValueError(f"unknown fault {name!r}; one of {', '.join(allowed)}")
            method = getattr(self, name)
            if arg is None or arg is True:
                method()
            elif arg is False and name == "set_down":
                method(False)
            elif isinstance(arg, dict):
                method(**arg)
            elif isinstance(arg, list):
                method(*arg)
            else:
                method(arg)
