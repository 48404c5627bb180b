"""Subscriptions that run for hours must not grow with every event they deliver.

graphql-core 3.3 executes each subscription event with a shallow copy of the subscription's
executor (graphql/execution/executor.py `build_per_event_executor`). The copy shares the executor's
sub-field memo (`_relevant_sub_fields`), which is keyed by the identity of a field list and keeps
that list alive. Every event makes new field lists, so every event adds entries that live as long
as the subscription: about 2.6 KB per stockChanged event, 100 MB for 20 subscriptions over 2,000
changes, reading or not (tests/security/test_ws_slow_consumers.py measures it). Each event gets a
memo of its own here; within one event it still saves the repeated work it is there for.
"""

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def per_event_memo(base: type[Any] | None) -> type[Any]:
    """`base` (the schema's execution context class) with a fresh memo for each subscription event."""

    class PerEventMemo(base or StrawberryGraphQLCoreExecutionContext):  # type: ignore[misc]
        per_event_memo = True

        def build_per_event_executor(self, payload: Any) -> Any:
            executor = super().build_per_event_executor(payload)
            executor._relevant_sub_fields = {}
            return executor

    return PerEventMemo


def install(schema: Any) -> None:
    """Both `schema.subscribe` and `schema.stream` (either WebSocket protocol) read the class from here."""
    if not getattr(schema.execution_context_class, "per_event_memo", False):
        schema.execution_context_class = per_event_memo(schema.execution_context_class)
