"""Users and API tokens: shown once, stored hashed, checked on every call, revoked at once."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from countyhub.sharing import tables as t
from countyhub.sharing.model import BadRequest, Unauthorized
from countyhub.sharing.principals import UserStore


@pytest.fixture
def users(tmp_path) -> UserStore:
    return UserStore(create_engine(f"sqlite:///{tmp_path / 'catalog.sqlite'}"))


def test_a_token_resolves_to_its_user_and_is_never_stored_in_clear(users: UserStore) -> None:
    user, token = users.add("li_analyst", "mzj", "analyst")
    assert users.resolve(token) == user and (user.department, user.role) == ("mzj", "analyst")
    with users.engine.connect() as con:
        stored = [str(v) for row in con.execute(select(t.users)).all() for v in row]
    assert not any(token in v or token.split("_", 2)[2] in v for v in stored)
    assert users.resolve(token) == user  # the second call skips Argon2 but still reads the row


@pytest.mark.parametrize("bad", ["", "Bearer x", "chub_nope_" + "a" * 43, "chub__" + "a" * 43, "a_b_c"])
def test_malformed_or_unknown_tokens_are_refused(users: UserStore, bad: str) -> None:
    users.add("wang", "gaj", "engineer")
    with pytest.raises(Unauthorized):
        users.resolve(bad)


def test_a_right_id_with_a_wrong_secret_is_refused(users: UserStore) -> None:
    _, token = users.add("zhao", "gaj", "steward")
    prefix, token_id, secret = token.split("_", 2)
    with pytest.raises(Unauthorized):
        users.resolve(f"{prefix}_{token_id}_{secret[::-1]}")


def test_revoking_stops_a_token_at_once_even_after_it_was_verified(users: UserStore) -> None:
    _, token = users.add("qian", "cgj", "analyst")
    users.resolve(token)
    users.revoke("qian")
    with pytest.raises(Unauthorized):
        users.resolve(token)
    assert users.list()[0]["revoked_at"] is not None


def test_roles_and_names_are_checked(users: UserStore) -> None:
    with pytest.raises(BadRequest, match="unknown role"):
        users.add("a", "gaj", "superuser")
    with pytest.raises(BadRequest, match="without spaces"):
        users.add("a b", "gaj", "analyst")
    users.add("a", "gaj", "analyst")
    with pytest.raises(BadRequest, match="exists"):
        users.add("a", "gaj", "analyst")
