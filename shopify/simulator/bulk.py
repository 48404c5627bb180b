"""Bulk query operations (reference 1): validation, an asyncio runner writing JSONL to a file, result URLs.

The runner executes the inner query window by window over the root connection (nested connections return all
nodes), flattens each node into JSONL lines with `__parentId`, and streams them to a temp file so a 100k-row
export never sits in memory. With groupObjects:false the lines of each window are shuffled (seeded) so that
clients can't rely on children following their parent.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from .context import BulkWindow, RequestContext
from .ids import now, parse_version
from .models import BulkOperation
from .payloads import bulk_finish_payload

if TYPE_CHECKING:
    from .store import SimShop

RUNNING_STATES = ("CREATED", "RUNNING", "CANCELING")
MAX_CONNECTIONS = 5
MAX_DEPTH = 2


# ------------------------------------------------------------------------------------------ validation
def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def validate_bulk_query(schema: GraphQLSchema, query: str) -> tuple[DocumentNode | None, str | None]:
    """(document, None) if Shopify would accept the inner query, else (None, reason)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, f"Invalid bulk query: {exc.message}"
    errors = validate(schema, document)
    if errors:
        return None, "Invalid bulk query: " + "; ".join(e.message for e in errors)
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or ops[0].operation.value != "query":
        return None, "Bulk queries must contain exactly one query operation."
    roots = [s for s in ops[0].selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1 or len(ops[0].selection_set.selections) != 1:
        return None, "Bulk queries must contain exactly one top-level field."
    root = roots[0]
    if root.name.value in ("node", "nodes"):
        return None, "Bulk queries cannot use the node or nodes root fields."
    root_type = _unwrap(schema.query_type.fields[root.name.value].type)
    if not root_type.name.endswith("Connection"):
        return None, "Bulk queries must start with a connection field at the top level."
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    counter = {"connections": 0, "too_deep": False}
    _walk(schema, [root], schema.query_type, 0, fragments, counter)
    if counter["too_deep"]:
        return None, f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
    if counter["connections"] > MAX_CONNECTIONS:
        return None, f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    return document, None


def _walk(schema: GraphQLSchema, selections: Any, parent: Any, depth: int, fragments: dict, counter: dict) -> None:
    for node in selections:
        if isinstance(node, FragmentSpreadNode):
            frag = fragments.get(node.name.value)
            if frag:
                target = schema.get_type(frag.type_condition.name.value)
                _walk(schema, frag.selection_set.selections, target, depth, fragments, counter)
            continue
        if isinstance(node, InlineFragmentNode):
            target = schema.get_type(node.type_condition.name.value) if node.type_condition else parent
            _walk(schema, node.selection_set.selections, target, depth, fragments, counter)
            continue
        if node.name.value.startswith("__") or not hasattr(parent, "fields") or node.selection_set is None:
            continue
        ftype = _unwrap(parent.fields[node.name.value].type)
        next_depth = depth
        if ftype.name.endswith("Connection"):
            counter["connections"] += 1
            next_depth = depth + 1
            if next_depth > MAX_DEPTH:
                counter["too_deep"] = True
        _walk(schema, node.selection_set.selections, ftype, next_depth, fragments, counter)


# ------------------------------------------------------------------------------------------ starting
def start_bulk(shop: SimShop, schema: GraphQLSchema, ctx: RequestContext, query: str, group_objects: bool) -> dict:
    """The bulkOperationRunQuery payload. Schedules the runner on the running loop."""
    document, problem = validate_bulk_query(schema, query)
    if problem:
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": problem, "code": "INVALID"}]}
    running = [op for op in shop.bulk_operations.values() if op.status in RUNNING_STATES]
    if ctx.version >= (2026, 1):
        limit = shop.config.bulk_concurrency_limit or 5
        if len(running) >= limit:
            message = "Bulk operations limit reached, try later."
            return {"bulkOperation": None, "userErrors": [{"field": None, "message": message, "code": "LIMIT_REACHED"}]}
    else:
        busy = [op for op in running if op.type == "QUERY"]
        if busy:
            message = f"A bulk query operation for this app and shop is already in progress: {busy[0].gid}."
            err = {"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}
            return {"bulkOperation": None, "userErrors": [err]}
    op = BulkOperation(id=shop.next_small_id(), query=query, group_objects=group_objects, api_version=ctx.version_str)
    shop.bulk_operations[op.id] = op
    failure = shop.faults.take_bulk_failure()
    task = asyncio.get_running_loop().create_task(_run(shop, schema, op, document, ctx, failure))
    _tasks(shop).add(task)
    task.add_done_callback(_tasks(shop).discard)
    return {"bulkOperation": op, "userErrors": []}


def _tasks(shop: SimShop) -> set:
    if not hasattr(shop, "_bulk_tasks"):
        shop._bulk_tasks = set()
    return shop._bulk_tasks


def cancel_bulk(shop: SimShop, op: BulkOperation | None) -> dict:
    if op is None:
        return {"bulkOperation": None, "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
    if op.status not in ("CREATED", "RUNNING"):
        message = f"A bulk operation cannot be canceled when it is {op.status.lower()}"
        return {"bulkOperation": op, "userErrors": [{"field": ["id"], "message": message}]}
    op.status = "CANCELING"
    op.cancel_requested = True
    return {"bulkOperation": op, "userErrors": []}


# ------------------------------------------------------------------------------------------ running
def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"edges", "nodes", "pageInfo"}


def _connection_nodes(conn: dict) -> list:
    if "edges" in conn:
        return [e["node"] for e in conn["edges"] if isinstance(e, dict) and "node" in e]
    return list(conn.get("nodes") or [])


def flatten(node: dict, parent_id: str | None, out: list) -> None:
    """Append one line for `node` (connections removed, inline objects kept) then lines for nested nodes."""
    children: list[dict] = []

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            kept = {}
            for k, v in value.items():
                if _is_connection(v):
                    children.append(v)
                else:
                    kept[k] = inline(v)
            return kept
        if isinstance(value, list):
            return [inline(v) for v in value]
        return value

    line = inline(node)
    if parent_id is not None:
        line["__parentId"] = parent_id
    out.append(line)
    own_id = node.get("id")
    for conn in children:
        for child in _connection_nodes(conn):
            flatten(child, own_id, out)


def _ungroup(lines: list[dict], rng: random.Random) -> None:
    """Shuffle, then make sure at least one child precedes its parent so clients must handle it."""
    rng.shuffle(lines)
    index = {line.get("id"): n for n, line in enumerate(lines) if line.get("id")}
    children = [n for n, line in enumerate(lines) if "__parentId" in line]
    if children and all(index.get(lines[c]["__parentId"], -1) < c for c in children):
        c = children[-1]
        p = index.get(lines[c]["__parentId"])
        if p is not None:
            lines[p], lines[c] = lines[c], lines[p]


async def _run(
    shop: SimShop,
    schema: GraphQLSchema,
    op: BulkOperation,
    document: DocumentNode,
    ctx: RequestContext,
    failure: tuple[str, bool] | None,
) -> None:
    config = shop.config
    await asyncio.sleep(config.bulk_start_delay)
    root_key = next(s for s in document.definitions if isinstance(s, OperationDefinitionNode)).selection_set
    root_field = root_key.selections[0]
    key = root_field.alias.value if root_field.alias else root_field.name.value
    path = os.path.join(shop.bulk_dir, f"{op.id}.jsonl")
    rng = random.Random(config.bulk_shuffle_seed * 1_000_003 + op.id)
    outcome = "COMPLETED"
    with open(path, "wb") as fh:  # noqa: ASYNC230 (local temp file; writes are small and fast)
        if op.cancel_requested:
            outcome = "CANCELED"
        else:
            op.status = "RUNNING"
        offset = 0
        while outcome == "COMPLETED":
            window = RequestContext(shop, ctx.version, ctx.version_str, bulk=BulkWindow(offset, config.bulk_page_size))
            result = execute(schema, document, context_value=window)
            if result.errors or not result.data:
                outcome, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                break
            nodes = _connection_nodes(result.data[key])
            if not nodes:
                break
            lines: list[dict] = []
            for node in nodes:
                flatten(node, None, lines)
            if not op.group_objects:
                _ungroup(lines, rng)
            if failure is not None:
                keep = lines[: max(1, len(lines) // 2)] if failure[1] else []
                _write(fh, op, keep, 0)
                op.partial = bool(keep)
                outcome, op.error_code = "FAILED", failure[0]
                break
            _write(fh, op, lines, len(nodes))
            offset += config.bulk_page_size
            await asyncio.sleep(config.bulk_page_delay)
            if op.cancel_requested:
                outcome = "CANCELED"
        if outcome == "COMPLETED" and failure is not None:
            outcome, op.error_code = "FAILED", failure[0]
        op.file_size = fh.tell()
    op.path = path
    op.token = secrets.token_urlsafe(24)
    op.expires_at = time.time() + config.bulk_url_ttl
    op.status = outcome
    op.completed_at = now()
    shop.emit("bulk_operations/finish", bulk_finish_payload(op))


def _write(fh: Any, op: BulkOperation, lines: list[dict], roots: int) -> None:
    fh.write(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    op.object_count += len(lines)
    op.root_object_count += roots


# ------------------------------------------------------------------------------------------ reading back
def current_status(shop: SimShop, op: BulkOperation) -> str:
    """COMPLETED turns into EXPIRED once the result URL has expired."""
    if op.status == "COMPLETED" and op.expires_at is not None and time.time() > op.expires_at:
        op.status = "EXPIRED"
    return op.status


def _url(shop: SimShop, op: BulkOperation) -> str:
    base = (shop.public_url or "http://127.0.0.1").rstrip("/")
    ttl = int(shop.config.bulk_url_ttl)
    signature = secrets.token_hex(16)
    return (
        f"{base}/bulk-results/{op.token}.jsonl?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        f"&X-Goog-Expires={ttl}&X-Goog-Signature={signature}"
    )


def result_url(shop: SimShop, op: BulkOperation) -> str | None:
    """Null while running, for failures, and when the query matched nothing (as Shopify does)."""
    status = current_status(shop, op)
    if status not in ("COMPLETED", "EXPIRED") or op.token is None or op.object_count == 0:
        return None
    return _url(shop, op)


def partial_url(shop: SimShop, op: BulkOperation) -> str | None:
    if op.status != "FAILED" or not op.partial or op.token is None:
        return None
    return _url(shop, op)


def find_by_token(shop: SimShop, token: str) -> BulkOperation | None:
    return next((op for op in shop.bulk_operations.values() if op.token == token), None)


def expire_results(shop: SimShop) -> int:
    """Fault: make every result URL expired now. Returns how many operations were affected."""
    n = 0
    for op in shop.bulk_operations.values():
        if op.expires_at is not None:
            op.expires_at = time.time() - 1
            current_status(shop, op)
            n += 1
    return n


def version_tuple(value: str) -> tuple[int, int]:
    return parse_version(value) or (2026, 10)
