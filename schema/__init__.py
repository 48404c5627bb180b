"""The GraphQL schema. `schema.graphql` beside this file is its exported SDL (kept in sync by a test).

Importing any module of this package runs this file first, and resolvers/ import the types here
(resolvers -> schema -> operations): so this file builds nothing when imported. `schema` and
`build_schema` (schema/build.py, which imports schema/root.py and through it resolvers/) are made
on first use, and `from schema import schema` still works.
"""

from schema.errors import BadRequest


def __getattr__(name: str):
    if name in ("schema", "build_schema"):
        from schema import build

        return getattr(build, name)
    raise AttributeError(f"module 'schema' has no attribute {name!r}")


__all__ = ["BadRequest", "build_schema", "schema"]
