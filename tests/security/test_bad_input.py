"""Finding C: input that is not an amount or not text is refused up front with a typed error.

Before: `NaN` as a tax rate answered "Unexpected error." (and the other non-amounts reached the
operations, some of which caught them and some of which did not); a NUL character was stored by
SQLite and failed on PostgreSQL; text had no length limit before the operations. Over real HTTP,
on whichever backends the run uses.
"""

import json

import httpx
import pytest

CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } errors { field message code } } }"""
CREATE_BRANCH = """mutation($input: CreateBranchInput!) {
  createBranch(input: $input) { branch { id } errors { field message code } } }"""
NOT_AMOUNTS = ["NaN", "Infinity", "-Infinity", "1e400", "9" * 400, "0." + "1" * 400, "sNaN"]


async def _post(server, token: str | None, body: dict | bytes) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answer = await client.post("/graphql", content=content, headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code in (200, 400), answer.text
    return answer.json()


def _refused(body: dict, code: str = "BAD_USER_INPUT") -> dict:
    assert "Unexpected error." not in json.dumps(body), body
    assert body.get("data") is None, body  # refused before execution: nothing ran
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, body
    return error


def _product(sku: str, **variant) -> dict:
    variants = [{"sku": sku, "price": "4500.00", **variant}]
    return {"input": {"title": "Lawn suit", "variants": variants, "idempotencyKey": f"product-{sku}"}}


@pytest.mark.parametrize("field", ["price", "taxRate"])
@pytest.mark.parametrize("value", NOT_AMOUNTS, ids=lambda v: v if len(v) < 12 else f"{len(v)}-characters")
async def test_amounts_that_are_not_amounts_are_refused_as_variables(server, owner_token, field, value):
    error = _refused(
        await _post(server, owner_token, {"query": CREATE_PRODUCT, "variables": _product("X", **{field: value})})
    )
    assert f".variants[0].{field}" in error["message"] and "Decimal" in error["message"], error
    assert len(error["message"]) < 200, error  # it explains; it does not echo 400 digits


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])  # JSON numbers Python reads as inf/nan
async def test_json_numbers_that_are_not_amounts_are_refused(server, owner_token, number):
    body = {"query": CREATE_PRODUCT, "variables": _product("X", taxRate="@number@")}
    raw = json.dumps(body).replace('"@number@"', number).encode()
    assert json.loads(raw)  # the request itself is readable JSON (to Python)
    _refused(await _post(server, owner_token, raw))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400", "9" * 400, '"-Infinity"', '"1e400"'])
async def test_amounts_that_are_not_amounts_are_refused_as_literals(server, owner_token, literal):
    query = 'mutation { createProduct(input: {title: "t", idempotencyKey: "p",'
    query += ' variants: [{sku: "L", price: "1.00", taxRate: %s}]})'
    query += " { errors { code } } }"
    error = _refused(await _post(server, owner_token, {"query": query % literal}))
    assert "Decimal" in error["message"] and error.get("locations"), error


async def test_an_honest_amount_still_goes_through(server, owner_token):
    body = await _post(
        server, owner_token, {"query": CREATE_PRODUCT, "variables": _product("HONEST-1", taxRate="18.00")}
    )
    assert body["data"]["createProduct"]["errors"] == [] and body["data"]["createProduct"]["product"]["id"]
    # 3 decimals is a business rule, answered by the operation as before
    body = await _post(server, owner_token, {"query": CREATE_PRODUCT, "variables": _product("HONEST-2", price="1.005")})
    assert body["data"]["createProduct"]["errors"][0]["code"] == "INVALID"


async def _branches(db) -> list[str]:
    from models.branches import Branch

    return await Branch.all().values_list("code", flat=True)


@pytest.mark.parametrize(
    "text",
    ["L\x00HR", "x" * 10_001],
    ids=["nul", "too-long"],
)
async def test_text_with_nul_or_too_long_is_refused_in_variables_and_literals(server, owner_token, db, text):
    variables = {"input": {"code": "TXT-1", "name": text, "idempotencyKey": "txt-1"}}
    error = _refused(await _post(server, owner_token, {"query": CREATE_BRANCH, "variables": variables}))
    assert error["extensions"]["field"] == "input.name" and "'$input'" in error["message"], error
    literal = 'mutation { createBranch(input: {code: "TXT-2", idempotencyKey: "txt-2", name: ' + json.dumps(text)
    literal += "}) { errors { code } } }"
    error = _refused(await _post(server, owner_token, {"query": literal}))
    assert error["extensions"]["field"] == "input.name", error
    assert await _branches(db) == []  # on both backends: nothing stored, nothing failed


async def test_text_limits_also_cover_sign_in_and_nested_lists(server, owner_token):
    login = "mutation($input: LoginInput!) { login(input: $input) { token } }"
    error = _refused(
        await _post(
            server, None, {"query": login, "variables": {"input": {"email": "a@b.pk", "password": "p" * 10_001}}}
        )
    )
    assert error["extensions"]["field"] == "input.password"
    product = _product("NUL-1", title="Lawn\x00")
    error = _refused(await _post(server, owner_token, {"query": CREATE_PRODUCT, "variables": product}))
    assert error["extensions"]["field"] == "input.variants.0.title"


async def test_text_too_long_for_its_column_is_a_typed_error_not_a_fault(server, owner_token):
    """createProduct checks the title's length but not the vendor's (120 in the database): the ORM
    refuses it on both backends, which used to answer "Unexpected error."."""
    variants = [{"sku": "LONG-1", "price": "1.00"}]
    product = {"input": {"title": "t", "vendor": "v" * 300, "variants": variants, "idempotencyKey": "long-1"}}
    body = await _post(server, owner_token, {"query": CREATE_PRODUCT, "variables": product})
    assert "Unexpected error." not in json.dumps(body), body
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "vendor"}, body
    assert error["message"] == "'vendor' is longer than 120 characters" and "vvvv" not in json.dumps(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4500.00", "4500.00"), (4500, "4500"), (0.1, "0.1"), ("-12.5", "-12.5"), (".5", "0.5"), ("1e3", "1E+3")],
)
def test_honest_amounts_read_as_before(value, expected):
    from decimal import Decimal

    from schema.scalars import parse_decimal

    assert parse_decimal(value) == Decimal(expected) and str(parse_decimal(value)) == str(Decimal(expected))
