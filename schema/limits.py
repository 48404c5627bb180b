"""How big an operation is once its fragments are expanded: depth, field count (cost) and aliases.

A fragment spread twice costs twice, so a document of a few hundred bytes can stand for millions of
fields (`fragment F1 on Query { ...F0 ...F0 }`, `F2 { ...F1 ...F1 }`, ...). Walking every expansion
to count them is itself the attack, so each fragment is measured once and its totals are reused
wherever it is spread: the work is linear in the document, whatever the expansion adds up to.

Depth keeps the meaning of the limiter it replaces: a field with a selection set adds one, a leaf
adds nothing, and introspection fields (`__schema`, `__type`) add no depth (they still cost).
"""

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class Size:
    depth: int = 0
    cost: int = 0  # fields selected, each fragment counted every time it is spread
    aliases: int = 0


@dataclass
class _Frame:
    """A selection set being measured; `kind` says what it adds to its parent when done."""

    selections: list
    kind: str  # "field", "introspection" (costs, no depth), "group" (inline fragment, fragment, operation)
    fragment: str | None = None
    aliased: bool = False
    depth: int = 0
    cost: int = 0
    aliases: int = 0
    index: int = field(default=0)

    def add(self, size: Size, cap: int) -> None:
        self.depth = max(self.depth, size.depth)
        self.cost = min(self.cost + size.cost, cap)
        self.aliases = min(self.aliases + size.aliases, cap)

    def size(self, cap: int) -> Size:
        if self.kind == "group":
            return Size(self.depth, self.cost, self.aliases)
        depth = 1 + self.depth if self.kind == "field" else 0
        return Size(depth, min(self.cost + 1, cap), min(self.aliases + self.aliased, cap))


class Measure:
    """Sizes of a document's operations. Fragments are measured once (memoised); a spread that
    closes a cycle, or names an unknown fragment, adds nothing (NoFragmentCycles and
    KnownFragmentNames report those). Totals saturate at `cap`, so the numbers stay small."""

    def __init__(self, document: DocumentNode, cap: int):
        self.cap = cap
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.sizes: dict[str, Size] = {}

    def of(self, selection_set: SelectionSetNode) -> Size:
        # An explicit stack, not recursion: a chain of fragments nests as deep as the document is long.
        stack = [_Frame(list(selection_set.selections), "group")]
        open_fragments: set[str] = set()
        while True:
            frame = stack[-1]
            if frame.index == len(frame.selections):
                stack.pop()
                size = frame.size(self.cap)
                if frame.fragment is not None:
                    self.sizes[frame.fragment] = size
                    open_fragments.discard(frame.fragment)
                if not stack:
                    return size
                stack[-1].add(size, self.cap)
                continue
            node = frame.selections[frame.index]
            frame.index += 1
            if isinstance(node, FieldNode):
                aliased = node.alias is not None
                if node.selection_set is None:
                    frame.add(Size(0, 1, int(aliased)), self.cap)
                else:
                    kind = "introspection" if node.name.value.startswith("__") else "field"
                    stack.append(_Frame(list(node.selection_set.selections), kind, aliased=aliased))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in self.sizes:
                    frame.add(self.sizes[name], self.cap)
                elif name in self.fragments and name not in open_fragments:
                    open_fragments.add(name)
                    stack.append(_Frame(list(self.fragments[name].selection_set.selections), "group", fragment=name))
            elif node.selection_set is not None:  # an inline fragment
                stack.append(_Frame(list(node.selection_set.selections), "group"))


def operation_name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "anonymous"


def query_limits_rule(*, max_depth: int, max_cost: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than `max_depth`, selecting more than `max_cost`
    fields, or with more than `max_aliases` aliases in the document (all after fragment expansion)."""

    class QueryLimits(ValidationRule):
        def leave_document(self, node: DocumentNode, *_args) -> None:
            # On leaving: graphql-core has already aborted documents whose fragments nest too deeply.
            context: ValidationContext = self.context
            measure = Measure(node, cap=max(max_cost, max_aliases) + 1)
            aliases = 0
            for operation in node.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                size = measure.of(operation.selection_set)
                aliases += size.aliases
                name = operation_name(operation)
                if size.depth > max_depth:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            operation,
                            extensions={"code": TOO_COMPLEX},
                        )
                    )
                if size.cost > max_cost:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' selects more than {max_cost} fields (a fragment counts every time it is"
                            " spread): ask for less, or split it into several requests",
                            operation,
                            extensions={"code": TOO_COMPLEX},
                        )
                    )
            if aliases > max_aliases:
                shown = f"more than {max_aliases}" if aliases > max(max_cost, max_aliases) else str(aliases)
                context.report_error(
                    GraphQLError(f"{shown} aliases found. Allowed: {max_aliases}", extensions={"code": TOO_COMPLEX})
                )

    return QueryLimits
