"""Customers: the list, and creating and changing one."""

from strawberry import relay
from strawberry.types import Info

from operations.directory import CustomerChanges, CustomerExists, NewCustomer, customers_query
from operations.directory import create_customer as ops_create_customer
from operations.directory import update_customer as ops_update_customer
from operations.kernel import ErrorCode, OperationError
from resolvers.mutations import payload
from schema import ids
from schema.customers import (
    CreateCustomerInput,
    CreateCustomerPayload,
    Customer,
    UpdateCustomerInput,
    UpdateCustomerPayload,
)
from schema.errors import BadRequest
from schema.pagination import decode_cursor, keyset_page


async def customers(
    info: Info, first: int, after: str | None = None, search: str | None = None
) -> relay.Connection[Customer]:
    """Customers in the order they were made; `search` finds a phone (any form) or CNIC exactly, part of a
    phone's digits, or every word in the name or email."""
    try:
        queryset = customers_query(info.context.actor, search)
    except OperationError as error:
        raise BadRequest(str(error), field="search") from None
    return await keyset_page(
        queryset, first=first, after_key=decode_cursor(after), key="id", to_node=Customer.from_model
    )


def _naming_the_holder(error: CustomerExists) -> OperationError:
    """The refusal with the other customer's ID, so the counter can open them instead."""
    gid = str(ids.global_id("Customer", error.customer_id))
    return OperationError.single(ErrorCode.DUPLICATE, f"{error} (customer {gid})", "phone")


async def create_customer(info: Info, input: CreateCustomerInput) -> CreateCustomerPayload:
    async def run():
        new = NewCustomer(input.first_name, input.last_name, input.phone, input.email, input.cnic, input.ntn)
        try:
            customer, _ = await ops_create_customer(info.context.actor, new, input.idempotency_key)
        except CustomerExists as error:
            raise _naming_the_holder(error) from None
        return {"customer": Customer.from_model(customer)}

    return await payload(CreateCustomerPayload, run)


async def update_customer(info: Info, input: UpdateCustomerInput) -> UpdateCustomerPayload:
    async def run():
        customer_pk = ids.decode(input.customer_id, "Customer", "customerId")
        changes = CustomerChanges(input.first_name, input.last_name, input.phone, input.email, input.cnic, input.ntn)
        try:
            customer, _ = await ops_update_customer(info.context.actor, customer_pk, changes, input.idempotency_key)
        except CustomerExists as error:
            raise _naming_the_holder(error) from None
        return {"customer": Customer.from_model(customer)}

    return await payload(UpdateCustomerPayload, run)
