"""x-idempotency-key on the simulator, as the server's idempotencyMiddleware handles it.

Read from the server code (2025-08 and 2026-08 routers, routes/shared.ts, services/idempotency):
the middleware runs on v1 POST /crawl, v1 POST /batch/scrape and v2 POST /crawl, never on v2 POST
/batch/scrape; after the key and credit checks and before the body is validated. A key that is
not a UUID, or one seen before (by any team), answers 409; a new one is stored for good. There is
no replay of the first answer.
"""

from __future__ import annotations

import uuid

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import ALICE, BOB, Api

CONFLICT = {"success": False, "error": "Idempotency key already used"}
BATCH = {"urls": ["https://a.example/1"]}
CRAWL = {"url": "https://docs.example.com", "limit": 2}


def key_header(key: str) -> dict[str, str]:
    return {"x-idempotency-key": key}


def jobs_started(api: Api) -> int:
    return len(api.json("/v2/team/activity")["data"])


@pytest.mark.parametrize(
    ("path", "payload"),
    [("/v1/batch/scrape", BATCH), ("/v1/crawl", CRAWL), ("/v2/crawl", CRAWL)],
)
def test_a_reused_key_is_a_409_and_starts_nothing(
    api: Api, path: str, payload: dict[str, object]
) -> None:
    key = str(uuid.uuid4())

    first = api.post(path, json=payload, headers=key_header(key))
    again = api.post(path, json=payload, headers=key_header(key))

    assert first.status_code == 200
    assert (again.status_code, again.json()) == (409, CONFLICT)
    assert jobs_started(api) == 1


def test_v2_batch_scrape_does_not_look_at_the_key(api: Api) -> None:
    key = "019ac000-0000-7000-8000-000000000000"  # a UUID v7

    first = api.post("/v2/batch/scrape", json=BATCH, headers=key_header(key))
    again = api.post("/v2/batch/scrape", json=BATCH, headers=key_header("not even a uuid"))
    same = api.post("/v2/batch/scrape", json=BATCH, headers=key_header(key))

    assert [r.status_code for r in (first, again, same)] == [200, 200, 200]
    assert len({r.json()["id"] for r in (first, again, same)}) == 3
    assert api.post("/v1/batch/scrape", json=BATCH, headers=key_header(key)).status_code == 200


def test_a_key_that_is_not_a_uuid_is_a_409_as_if_it_were_used(api: Api) -> None:
    for key in ("retry-1", "6f1c0e2a-0000-0000-0000-000000000000", "00000000-0000-0000-0000"):
        response = api.post("/v1/batch/scrape", json=BATCH, headers=key_header(key))
        assert (response.status_code, response.json()) == (409, CONFLICT), key

    nil = api.post("/v1/crawl", json=CRAWL, headers=key_header(str(uuid.UUID(int=0))))
    assert nil.status_code == 200  # the uuid package accepts the nil UUID
    assert jobs_started(api) == 1


def test_keys_are_shared_by_every_team_and_every_route(sim: FakeFirecrawl) -> None:
    key = str(uuid.uuid4())

    alices = Api(sim).post("/v2/crawl", json=CRAWL, headers=key_header(key))
    bobs = Api(sim, BOB).post("/v1/batch/scrape", json=BATCH, headers=key_header(key))

    assert alices.status_code == 200
    assert (bobs.status_code, bobs.json()) == (409, CONFLICT)


def test_keys_are_compared_without_regard_to_case(api: Api) -> None:
    key = str(uuid.uuid4())

    assert api.post("/v1/crawl", json=CRAWL, headers=key_header(key.upper())).status_code == 200
    assert api.post("/v1/crawl", json=CRAWL, headers=key_header(key)).status_code == 409


def test_a_key_is_spent_even_when_the_body_is_then_refused(api: Api) -> None:
    key = str(uuid.uuid4())

    refused = api.post("/v1/batch/scrape", json={"urls": []}, headers=key_header(key))
    fixed = api.post("/v1/batch/scrape", json=BATCH, headers=key_header(key))

    assert refused.status_code == 400
    assert (fixed.status_code, fixed.json()) == (409, CONFLICT)


def test_credits_and_the_api_key_are_checked_before_the_idempotency_key(sim: FakeFirecrawl) -> None:
    sim.add_key("fc-broke", team="broke", credits=0)
    key = str(uuid.uuid4())

    unknown_key = Api(sim, "fc-nobody").post("/v1/crawl", json=CRAWL, headers=key_header(key))
    broke = Api(sim, "fc-broke").post("/v1/crawl", json=CRAWL, headers=key_header(key))
    alices = Api(sim, ALICE).post("/v1/crawl", json=CRAWL, headers=key_header(key))

    assert (unknown_key.status_code, broke.status_code, alices.status_code) == (401, 402, 200)


def test_an_empty_key_is_no_key(api: Api) -> None:
    responses = [api.post("/v1/crawl", json=CRAWL, headers=key_header("")) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]


def test_a_server_without_its_database_fails_a_uuid_key_with_500(clock: ManualClock) -> None:
    # Self-hosted without USE_DB_AUTHENTICATION: looking the key up throws "Supabase RR client is
    # not configured", which the error handler turns into its 500.
    with FakeFirecrawl(clock=clock, idempotency_db=False) as sim:
        sim.add_key(ALICE)
        api = Api(sim)

        with_key = api.post("/v1/batch/scrape", json=BATCH, headers=key_header(str(uuid.uuid4())))
        not_uuid = api.post("/v1/batch/scrape", json=BATCH, headers=key_header("retry-1"))
        without = api.post("/v1/batch/scrape", json=BATCH)

    assert with_key.status_code == 500
    assert with_key.json()["code"] == "UNKNOWN_ERROR"
    assert (not_uuid.status_code, without.status_code) == (409, 200)
