"""Calculated query cost and the leaky bucket Shopify throttles GraphQL calls with (reference section 6)."""

from __future__ import annotations

import time
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast,
)

MUTATION_COST = 10
DEFAULT_PAGE = 250


class LeakyBucket:
    """Points drain per call and refill at `restore_rate`/s up to `size`; uses the monotonic clock."""

    def __init__(self, size: float, restore_rate: float) -> None:
        self.size = float(size)
        self.restore_rate = float(restore_rate)
        self._level = float(size)
        self._at = time.monotonic()

    def available(self) -> float:
        t = time.monotonic()
        self._level = min(self.size, self._level + (t - self._at) * self.restore_rate)
        self._at = t
        return self._level

    def take(self, points: float) -> None:
        self.available()
        self._level -= points

    def give(self, points: float) -> None:
        self.available()
        self._level = min(self.size, self._level + points)

    def drain(self, to: float = 0.0) -> None:
        """Test helper: empty the bucket as if other apps had used it."""
        self.available()
        self._level = to

    def status(self) -> dict:
        return {
            "maximumAvailable": self.size,
            "currentlyAvailable": int(self.available()),
            "restoreRate": self.restore_rate,
        }


def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _page_size(node: FieldNode, variables: dict) -> int:
    for arg in node.arguments or ():
        if arg.name.value in ("first", "last"):
            value = value_from_ast(arg.value, GraphQLInt, variables)
            if isinstance(value, int):
                return max(value, 0)
    return DEFAULT_PAGE


def requested_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict) -> int:
    """Cost before execution: objects 1, scalars 0, connections 2 + page × node cost, mutation fields 10."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    op = next((o for o in ops if operation_name is None or (o.name and o.name.value == operation_name)), None)
    if op is None:
        return 0
    if op.operation.value == "mutation":
        return MUTATION_COST * len([s for s in op.selection_set.selections if isinstance(s, FieldNode)])
    root = schema.query_type
    return _selection_cost(schema, op.selection_set, root, fragments, variables)


def _selection_cost(
    schema: GraphQLSchema, sel: SelectionSetNode | None, parent: Any, fragments: dict, variables: dict
) -> int:
    if sel is None:
        return 0
    total = 0
    typed_branches: list[int] = []  # fragments on other types: only the dearest one can apply
    for node in sel.selections:
        if isinstance(node, FieldNode):
            total += _field_cost(schema, node, parent, fragments, variables)
        else:
            if isinstance(node, FragmentSpreadNode):
                frag = fragments.get(node.name.value)
                if frag is None:
                    continue
                cond, sub = frag.type_condition.name.value, frag.selection_set
            else:
                assert isinstance(node, InlineFragmentNode)
                cond = node.type_condition.name.value if node.type_condition else parent.name
                sub = node.selection_set
            target = schema.get_type(cond) or parent
            cost = _selection_cost(schema, sub, target, fragments, variables)
            if cond == parent.name:
                total += cost
            else:
                typed_branches.append(cost)
    return total + max(typed_branches, default=0)


def _field_cost(schema: GraphQLSchema, node: FieldNode, parent: Any, fragments: dict, variables: dict) -> int:
    name = node.name.value
    if name.startswith("__") or not hasattr(parent, "fields"):
        return 0
    field = parent.fields.get(name)
    if field is None:
        return 0
    ftype = _unwrap(field.type)
    if not hasattr(ftype, "fields"):
        return 0  # scalar or enum
    if ftype.name.endswith("Connection"):
        node_type = _unwrap(ftype.fields["edges"].type).fields["node"].type if "edges" in ftype.fields else None
        node_type = _unwrap(node_type)
        per_node = 0
        for sub in node.selection_set.selections if node.selection_set else ():
            if isinstance(sub, FieldNode) and sub.name.value in ("edges", "nodes"):
                inner = sub.selection_set
                if sub.name.value == "edges" and inner is not None:
                    for edge_field in inner.selections:
                        if isinstance(edge_field, FieldNode) and edge_field.name.value == "node":
                            per_node += 1 + _selection_cost(
                                schema, edge_field.selection_set, node_type, fragments, variables
                            )
                elif inner is not None:
                    per_node += 1 + _selection_cost(schema, inner, node_type, fragments, variables)
        return 2 + _page_size(node, variables) * max(per_node, 1)
    if isinstance(ftype, GraphQLObjectType) and ftype.name in ("PageInfo",):
        return 0
    return 1 + _selection_cost(schema, node.selection_set, ftype, fragments, variables)


def actual_cost(data: Any, is_mutation: bool) -> int:
    """Approximate what was really returned: 1 per object, +1 per connection, wrappers free."""
    if is_mutation:
        return MUTATION_COST * (len(data) if isinstance(data, dict) else 1)
    return sum(_count(v) for v in data.values()) if isinstance(data, dict) else 0


def _count(value: Any) -> int:
    if isinstance(value, list):
        return sum(_count(v) for v in value)
    if not isinstance(value, dict):
        return 0
    keys = set(value)
    if keys and keys <= {"edges", "nodes", "pageInfo"}:
        return 2 + sum(_count(v) for k, v in value.items() if k != "pageInfo")
    if keys and keys <= {"node", "cursor"}:
        return _count(value.get("node"))
    if "hasNextPage" in keys or "endCursor" in keys:
        return 0
    return 1 + sum(_count(v) for v in value.values())
