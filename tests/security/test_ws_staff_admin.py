"""Deactivating a staff member through the back office closes their open WebSocket (on a real server) and
their token is refused from then on; a password reset does the same to the sessions it ends."""

import itertools

from gql.transport.exceptions import TransportQueryError

from models.staff import Role
from tests.e2e.shop import request
from tests.security.live_sockets import ME, closed_with, receive, signed_in_socket, subscribe

SESSION_ENDED = 4403
_keys = itertools.count(1)
DEACTIVATE = """mutation($s: ID!, $k: String!) { deactivateStaff(input: {staffId: $s, idempotencyKey: $k}) {
  staff { active } errors { code } } }"""
RESET_PASSWORD = """mutation($s: ID!, $k: String!) {
  resetStaffPassword(input: {staffId: $s, newPassword: "a brand new password", idempotencyKey: $k}) {
    staff { id } errors { code } } }"""


async def _live_socket(server, token: str) -> tuple[object, str]:
    """A signed-in socket proven to answer; and the staff member's ID, as it answered."""
    ws = await signed_in_socket(server, token)
    await subscribe(ws, "me", ME)
    answer = await receive(ws)
    assert answer["type"] == "next", answer
    return ws, answer["payload"]["data"]["me"]["id"]


async def _refused(server, token: str) -> str:
    async with server.http_client(token) as http:
        try:
            await http.execute(request(ME))
        except TransportQueryError as error:
            return error.errors[0]["extensions"]["code"]
    return "answered"


async def test_a_deactivated_cashiers_open_socket_is_closed_and_their_token_refused(server, owner_token, staff_token):
    cashier_token = await staff_token(Role.CASHIER)
    ws, cashier_id = await _live_socket(server, cashier_token)
    async with server.http_client(owner_token) as http:
        result = await http.execute(request(DEACTIVATE, s=cashier_id, k=f"ws-deactivate-{next(_keys)}"))
    assert result["deactivateStaff"] == {"staff": {"active": False}, "errors": []}
    close_code, reason, _ = await closed_with(ws, deadline=5)
    assert (close_code, "sign in again" in reason) == (SESSION_ENDED, True), (close_code, reason)
    assert await _refused(server, cashier_token) == "UNAUTHENTICATED"


async def test_a_password_reset_closes_the_members_open_socket(server, owner_token, staff_token):
    cashier_token = await staff_token(Role.CASHIER)
    ws, cashier_id = await _live_socket(server, cashier_token)
    async with server.http_client(owner_token) as http:
        result = await http.execute(request(RESET_PASSWORD, s=cashier_id, k=f"ws-reset-{next(_keys)}"))
    assert result["resetStaffPassword"]["errors"] == []
    close_code, _, _ = await closed_with(ws, deadline=5)
    assert close_code == SESSION_ENDED
    assert await _refused(server, cashier_token) == "UNAUTHENTICATED"
