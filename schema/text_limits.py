"""One cap on every piece of text a request carries, and no NUL characters, whatever the field.

Columns are shorter than this cap and the operations check their own lengths; the cap keeps a
megabyte "name" from being hashed, compared, logged or echoed in an error before anything looks
at it. NUL is refused because PostgreSQL cannot store it in text while SQLite stores it silently:
the same request must get the same answer on both backends. Both are checked before execution:
literals by a validation rule (cached with the document), variables once per request.
"""

from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
)

BAD_INPUT = "BAD_USER_INPUT"
MAX_REPORTED = 10  # one request, at most this many errors: enough to fix it, too few to amplify it


def problem(text: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which no text field accepts"
    return None


def _error(where: str, field: str, message: str, node=None) -> GraphQLError:
    return GraphQLError(f"{where} {message}", node, extensions={"code": BAD_INPUT, "field": field})


def text_limits_rule(max_length: int) -> type[ValidationRule]:
    class TextLimits(ValidationRule):
        """Every string literal in the document: arguments, input fields, variable defaults."""

        reported = 0

        def enter_string_value(self, node: StringValueNode, _key, parent, _path, ancestors) -> None:
            message = problem(node.value, max_length)
            if message is None or self.reported >= MAX_REPORTED:
                return
            self.reported += 1
            field = _literal_path([*ancestors, parent, node])
            self.report_error(_error(f"The text at '{field}'", field, message, node))

    return TextLimits


def _literal_path(chain: list) -> str:
    """`input.lines.0.note` for a literal inside arguments, input objects and lists."""
    names: list[str] = []
    for i, item in enumerate(chain):
        if isinstance(item, ArgumentNode | ObjectFieldNode):
            names.append(item.name.value)
        elif isinstance(item, VariableDefinitionNode):
            names.append(f"${item.variable.name.value}")
        elif isinstance(item, ListValueNode) and i + 2 < len(chain):
            values, element = chain[i + 1], chain[i + 2]
            names.append(str(next(n for n, v in enumerate(values) if v is element)))
    return ".".join(names) or "(text)"


def variable_errors(variables: dict[str, Any] | None, max_length: int) -> list[GraphQLError]:
    """Every string in the variables, keys included, walked without recursion (JSON nests deep)."""
    errors: list[GraphQLError] = []

    def refuse(path: str, message: str) -> None:
        name, _, field = path.partition(".")
        where = f"Variable '${name}'" + (f" at '{field}'" if field else "") if path else "The variables"
        errors.append(_error(where, path, message))

    stack: list[tuple[str, Any]] = [("", variables or {})]
    while stack and len(errors) < MAX_REPORTED:
        path, value = stack.pop()
        if isinstance(value, str):
            if (message := problem(value, max_length)) is not None:
                refuse(path, message)
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if isinstance(key, str) and (message := problem(key, max_length)) is not None:
                    refuse(path, f"have a name that {message}" if not path else f"has a field name that {message}")
                else:
                    stack.append((f"{path}.{key}" if path else str(key), item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}", item) for i, item in reversed(list(enumerate(value))))
    return errors
