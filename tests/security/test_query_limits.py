"""Finding A: a few hundred bytes of fragments must not stand for millions of fields.

`fragment F1 on Query { ...F0 ...F0 }`, `F2 { ...F1 ...F1 }`, ... doubles with each fragment. The
old depth and alias limiters walked every expansion and blocked the event loop for seconds (each
extra fragment doubled it). Timings are compared with a trivial query measured in the same run,
never against absolute numbers.
"""

import asyncio
import statistics
import time

import httpx
import pytest
from graphql import parse

from schema.limits import Measure

TRIVIAL = "{ __typename }"


def fragment_bomb(n: int, field: str = "__typename") -> str:
    fragments = [f"fragment F0 on Query {{ {field} }}"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return f"query {{ ...F{n} }} " + " ".join(fragments)


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.request(method, path, **kwargs)
    return time.perf_counter() - started, response


async def baseline(client: httpx.AsyncClient, method: str, path: str, **kwargs) -> float:
    """The median of a few trivial requests: the yardstick for this machine, now."""
    times = [(await timed(client, method, path, **kwargs))[0] for _ in range(7)]
    return statistics.median(times)


@pytest.fixture(scope="module")
def own_server(database_url, broadcast_url):
    """Its own server: on code without the fix the bomb keeps a server busy for seconds."""
    from tests.e2e.conftest import running_server

    with running_server(database_url, broadcast_url) as s:
        yield s


@pytest.mark.parametrize("field", ["__typename", "a: __typename"])  # the second is an alias bomb
async def test_a_fragment_bomb_is_refused_at_once_and_health_answers_meanwhile(own_server, field):
    bomb = fragment_bomb(21, field)
    assert len(bomb) < 1000  # under a kilobyte, no token
    async with httpx.AsyncClient(base_url=own_server.url, timeout=60) as client:
        trivial = await baseline(client, "POST", "/graphql", json={"query": TRIVIAL})
        health = await baseline(client, "GET", "/health")
        (bomb_time, answer), (health_time, healthy) = await asyncio.gather(
            timed(client, "POST", "/graphql", json={"query": bomb}),
            timed(client, "GET", "/health"),
        )
    assert bomb_time < 20 * trivial + 0.25, (bomb_time, trivial)
    assert healthy.status_code == 200 and health_time < 20 * health + 0.25, (health_time, health)
    errors = answer.json()["errors"]
    assert {e.get("extensions", {}).get("code") for e in errors} == {"QUERY_TOO_COMPLEX"}, errors


async def test_repeated_fields_do_not_buy_a_second_of_validation(own_server, owner_token):
    """graphql-core's overlapping-fields rule compares same-named fields pairwise under a budget of
    about a second of work, which 990 copies of `me { id }` (under the token limit) reach."""
    document = "{" + " me { id }" * 990 + "}"
    headers = {"Authorization": f"Bearer {owner_token}"}
    async with httpx.AsyncClient(base_url=own_server.url, timeout=60, headers=headers) as client:
        trivial = await baseline(client, "POST", "/graphql", json={"query": TRIVIAL})
        elapsed, answer = await timed(client, "POST", "/graphql", json={"query": document})
    assert answer.json()["errors"] == [{"message": "Validation aborted."}], answer.text
    assert elapsed < 20 * trivial + 0.25, (elapsed, trivial)


def test_measuring_is_linear_in_the_document():
    """200 doublings (2**200 fields) measure as fast as a handful: each fragment is measured once."""
    small, large = parse(fragment_bomb(10)), parse(fragment_bomb(200))
    started = time.perf_counter()
    for _ in range(20):
        Measure(small, cap=10**9).of(small.definitions[0].selection_set)
    per_small = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    size = Measure(large, cap=10**9).of(large.definitions[0].selection_set)
    assert size.cost == 10**9  # saturated: the count stops at the cap
    assert time.perf_counter() - started < 20 * 20 * per_small + 0.05  # 20x the fragments, 20x the time


async def test_cycles_and_unknown_fragments_get_graphql_cores_own_errors(api):
    body = await api.raw("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }")
    assert any("cycle" in e["message"].lower() or "itself" in e["message"] for e in body["errors"]), body
    body = await api.raw("{ ...Missing }")
    assert "Unknown fragment 'Missing'" in body["errors"][0]["message"]


def _nested(names: list[str]) -> str:
    inner = "id"
    for name in reversed(names):
        inner = f"{name} {{ {inner} }}"
    return inner


CHAIN = ["branches(first: 1)", "edges", "node"] + ["counters", "branch"] * 10


def _chain(levels: int) -> str:
    """`branches { edges { node { counters { branch ... { id }` with `levels` fields that have a
    selection: the depth the limit counts."""
    return "{ " + _nested(CHAIN[:levels]) + " }"


def _through_fragments(levels: int) -> str:
    """The same chain, its first three levels in the operation and fragments, the rest in a fragment."""
    rest = _nested(CHAIN[3:levels])
    return (
        "{ branches(first: 1) { ...E } } fragment E on BranchConnection { edges { node { ...N } } }"
        f" fragment N on Branch {{ {rest} }}"
    )


@pytest.mark.parametrize("document", [_chain, _through_fragments])
async def test_depth_means_what_it_meant(api, document):
    """Depth 12 (the default) passes and 13 does not, also when the depth comes through fragments."""
    assert "errors" not in await api.raw(document(12))
    refused = await api.raw(document(13))
    assert "exceeds maximum operation depth of 12" in refused["errors"][0]["message"]


async def test_a_large_honest_query_is_not_refused(api):
    """Every query in the tests and the README costs under 60 fields (introspection: about 230);
    a page asking for many fields of many things stays far under the default of 3000."""
    fields = " ".join(f"f{i}: id" for i in range(25))
    body = await api.raw("{ branches(first: 100) { edges { node { " + fields + " counters { id code name } } } } }")
    assert "errors" not in body, body


async def test_each_document_is_validated_once_limits_included():
    """The limits are validation rules inside the validation cache: the second request with the
    same text costs no validation at all."""
    from schema import build_schema
    from schema.context import Context
    from schema.edge import _validate

    schema = build_schema(introspection=False)
    bomb = fragment_bomb(30) + " # validated once"
    before = _validate.cache_info()
    first = await schema.execute(bomb, context_value=Context())
    second = await schema.execute(bomb, context_value=Context())
    after = _validate.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert first.errors[0].message == second.errors[0].message
    assert first.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
