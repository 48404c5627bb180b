"""Builds the executable graphql-core schema for an API version: SDL + resolvers + scalar serialisers."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

from . import catalog_edits, mutations, order_edits, resolve_catalog, resolve_orders
from .ids import iso
from .schema_sdl import sdl_for

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def default_resolver(source: Any, info: Any, **_args: Any) -> Any:
    """dicts answer by GraphQL field name; model objects by snake_case attribute; `id` is always the GID."""
    name = info.field_name
    if isinstance(source, dict):
        return source.get(name)
    if name == "id" and hasattr(source, "gid"):
        return source.gid
    if name == "legacyResourceId":
        return source.id
    return getattr(source, _snake(name), None)


def _type_name(value: Any, _info: Any, _abstract: Any) -> str:
    if isinstance(value, dict):
        return value["__typename"]
    name = type(value).__name__
    return "Shop" if name == "SimShop" else name


def _serialize_datetime(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


def _serialize_uint64(value: Any) -> str:
    """UnsignedInt64 goes over the wire as a JSON string (fixtures show "objectCount":"2")."""
    return str(int(value))


@cache
def schema_for(version: tuple[int, int]) -> GraphQLSchema:
    schema = build_schema(sdl_for(version))
    for group in (
        resolve_catalog.TYPE_RESOLVERS,
        resolve_orders.TYPE_RESOLVERS,
        mutations.TYPE_RESOLVERS,
        order_edits.TYPE_RESOLVERS,
        catalog_edits.TYPE_RESOLVERS,
    ):
        for type_name, fields in group.items():
            gql_type = schema.type_map[type_name]
            assert isinstance(gql_type, GraphQLObjectType)
            for field_name, fn in fields.items():
                gql_type.fields[field_name].resolve = fn
    for name, gql_type in schema.type_map.items():
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__"):
            for field in gql_type.fields.values():
                if field.resolve is None:
                    field.resolve = default_resolver
    for name, fn in (("DateTime", _serialize_datetime), ("UnsignedInt64", _serialize_uint64)):
        scalar = schema.type_map[name]
        scalar.serialize = scalar.coerce_output_value = fn  # graphql-core 3.3 reads coerce_output_value
    schema.type_map["Node"].resolve_type = _type_name
    schema.type_map["WebhookSubscriptionEndpoint"].resolve_type = _type_name
    return schema
