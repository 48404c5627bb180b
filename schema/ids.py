"""Relay global IDs ("Branch:12", base64) to database ids and back."""

from strawberry import relay

from operations.kernel import ErrorCode, OperationError


def global_id(type_name: str, pk: int) -> relay.GlobalID:
    return relay.GlobalID(type_name, str(pk))


def decode(value: str, type_name: str, field: str) -> int:
    """Raises OperationError(INVALID) so mutations report it as a typed error."""
    try:
        gid = relay.GlobalID.from_id(value)
        if gid.type_name != type_name:
            raise ValueError
        pk = int(gid.node_id)
        if not 0 < pk < 2**31:
            raise ValueError
        return pk
    except (ValueError, TypeError, relay.GlobalIDValueError):
        raise OperationError.single(ErrorCode.INVALID, f"not a valid {type_name} ID: {value!r}", field) from None


async def resolve_node(info, value: str):
    """`node(id:)`: a malformed ID is the client's mistake, not a server error."""
    from schema.errors import BadRequest

    try:
        gid = relay.GlobalID.from_id(value)
    except (ValueError, TypeError, relay.GlobalIDValueError):
        raise BadRequest(f"not a valid ID: {value!r}", field="id") from None
    try:
        return await gid.resolve_node(info, required=False)
    except (ValueError, TypeError):  # unknown type name or a non-numeric node id
        return None
