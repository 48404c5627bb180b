"""An ariadne-codegen plugin (runs in the codegen venv, not shipped): an input field whose GraphQL name is a
Python keyword (`from` in SalesReportInput, ReportPeriodInput, ExportReportInput) is given by its Python name.

The generator writes `from_: date = Field(alias="from")`; type checkers take a pydantic model's `alias` as the
constructor's keyword (pydantic's dataclass_transform), and `from=` cannot be written in Python, so
`SalesReportInput(from_=day, ...)` would fail mypy and the field could only be filled through a dict. With
`serialization_alias` instead, the constructor takes `from_=` and the request still says `from`."""

import ast
import keyword

from ariadne_codegen.plugins.base import Plugin


class KeywordFieldsByName(Plugin):
    def generate_input_field(self, field_implementation: ast.AnnAssign, input_field, field_name: str) -> ast.AnnAssign:
        value = field_implementation.value
        if keyword.iskeyword(field_name) and isinstance(value, ast.Call):
            for given in value.keywords:
                if given.arg == "alias":
                    given.arg = "serialization_alias"
        return field_implementation
