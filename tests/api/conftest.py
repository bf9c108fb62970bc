"""The API's personas: Alice and Bob with tokens, and clients that send them."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import ApiToken


def token_for(user: User, scope: str = ApiToken.Scope.WRITE, name: str = "") -> str:
    _row, token = ApiToken.objects.create_token(
        owner=user, name=name or f"{scope} token", scope=scope
    )
    return token


def api_client(token: str) -> Client:
    """A client that sends the token on every request, as a script would (no cookie)."""
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def alice_token(alice: User) -> str:
    return token_for(alice)


@pytest.fixture
def alice_api(alice_token: str) -> Client:
    return api_client(alice_token)


@pytest.fixture
def alice_reader(alice: User) -> Client:
    return api_client(token_for(alice, ApiToken.Scope.READ))


@pytest.fixture
def bob_api(bob: User) -> Client:
    return api_client(token_for(bob))


def post_json(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def body_of(response: Any) -> bytes:
    """A response's bytes, streamed or not (pages of documents are streamed)."""
    if response.streaming:
        return b"".join(bytes(chunk) for chunk in response.streaming_content)
    return bytes(response.content)


def json_of(response: Any) -> Any:
    return json.loads(body_of(response))
