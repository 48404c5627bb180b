"""An ariadne-codegen plugin (runs in the codegen venv, not shipped): `idempotencyKey` becomes optional in
the generated input models, so a partner may leave it out; the client then makes one per call
(codegen/base_client.py `with_idempotency_keys`) and reuses it for that call's retries. The server still
requires the key: it is always sent."""

import ast

from ariadne_codegen.plugins.base import Plugin

KEY = "idempotencyKey"


class OptionalIdempotencyKey(Plugin):
    def generate_input_field(self, field_implementation: ast.AnnAssign, input_field, field_name: str) -> ast.AnnAssign:
        if field_name != KEY:
            return field_implementation
        field_implementation.annotation = ast.Subscript(
            value=ast.Name(id="Optional"), slice=field_implementation.annotation
        )
        value = field_implementation.value
        if isinstance(value, ast.Call):  # Field(alias="idempotencyKey") gets default=None
            value.keywords.append(ast.keyword(arg="default", value=ast.Constant(None)))
        else:
            field_implementation.value = ast.Constant(None)
        return field_implementation
