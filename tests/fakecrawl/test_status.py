"""Status reads on the simulator: the completion delay, `completed` lagging `data`, and the
timestamps (expiresAt, completedAt, duration), compared with the captures."""

from __future__ import annotations

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import ALICE, Api, capture, head, shape

SMALL = [f"https://small.example/page{i}.html" for i in range(1, 30)]


def test_a_finished_batch_says_scraping_until_completion_settles_as_captured(
    clock: ManualClock,
) -> None:
    # Captures 111-115: 29 of 29 still `scraping` with `next`, then `completed` 0.714 s after
    # creation by its completedAt, two seconds later by the clock.
    with FakeFirecrawl(clock=clock, post_rate=29 / 0.714, settle_seconds=1.0) as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        job_id = api.start("/v2/batch/scrape", {"urls": SMALL})
        clock.advance(1.0)
        settling = api.status(job_id)
        clock.advance(1.0)
        done = api.status(job_id)
        clock.advance(2.0)
        later = api.status(job_id)

    for ours, name in [(settling, "112"), (done, "113"), (later, "115")]:
        real = capture(name)[1]
        assert shape(head(ours)) == shape(head(real)), name
        assert (ours["status"], ours["completed"], ours["total"]) == (
            real["status"],
            real["completed"],
            real["total"],
        ), name
    assert settling["next"].endswith(f"/v2/batch/scrape/{job_id}?skip=29")
    assert (done["completedAt"], done["duration"]) == ("2026-11-28T13:00:00.714Z", 0.714)
    assert later["duration"] == done["duration"]


def test_the_2025_server_has_no_completion_delay(api: Api) -> None:
    api.sim.settle_seconds = 10
    api.sim.set_mode("2025")

    page = api.status(api.sim.create_batch(ALICE, n=3))

    assert (page["status"], page["completed"], page["total"]) == ("completed", 3, 3)


def test_expires_at_slides_with_every_read_even_after_completion(
    api: Api, clock: ManualClock
) -> None:
    # Every 2026 capture reads expiresAt = the read's second + 24 h (113 and 115: 2 s apart).
    job_id = api.sim.create_batch(ALICE, n=3)
    clock.advance(3600.4)

    first = api.status(job_id)["expiresAt"]
    clock.advance(2)
    second = api.status(job_id)["expiresAt"]

    assert (first, second) == ("2026-11-29T14:00:00.000Z", "2026-11-29T14:00:02.000Z")


def test_a_batch_whose_every_url_fails_completes_at_its_creation_time(
    api: Api, clock: ManualClock
) -> None:
    # Captures 139-145: completedAt == createdAt and duration 0, though it ran 12 s.
    api.sim.settle_seconds = 12
    job_id = api.sim.create_batch(ALICE, n=2, rate=10, fail_every=1)
    clock.advance(20)

    page = api.status(job_id)

    assert shape(head(page)) == shape(head(capture("145_v2_batch_allfail_poll06")[1]))
    assert (page["status"], page["completed"], page["total"]) == ("completed", 0, 0)
    assert (page["completedAt"], page["duration"]) == (page["createdAt"], 0)


def test_completed_lags_the_listed_documents_while_the_job_runs(
    api: Api, clock: ManualClock
) -> None:
    api.sim.completed_lag = 1
    job_id = api.sim.create_batch(ALICE, n=100, rate=1.0)
    clock.advance(63)

    page = api.status(job_id)

    assert (page["completed"], len(page["data"]), page["total"]) == (62, 63, 100)
    assert page["next"].endswith("?skip=63")  # `next` counts the documents, not `completed`
    assert api.sim.job(job_id).completed == 63


def test_a_job_can_lag_by_its_own_amount(api: Api, clock: ManualClock) -> None:
    api.sim.completed_lag = 1
    lagging = api.sim.create_batch(ALICE, n=20, rate=1.0, completed_lag=2)
    exact = api.sim.create_batch(ALICE, n=20, rate=1.0, completed_lag=0)
    clock.advance(5)

    assert api.status(lagging)["completed"] == 3
    assert api.status(exact)["completed"] == 5


@pytest.mark.parametrize("ending", ["finish", "cancel", "fail"])
def test_completed_catches_up_once_no_document_is_coming(
    api: Api, clock: ManualClock, ending: str
) -> None:
    api.sim.completed_lag = 2
    api.sim.settle_seconds = 5
    job_id = api.sim.create_batch(ALICE, n=10, rate=1.0)
    clock.advance({"finish": 10, "cancel": 4, "fail": 4}[ending])
    if ending == "cancel":
        api.sim.cancel(job_id)
    elif ending == "fail":
        api.sim.fail(job_id)

    page = api.status(job_id)

    assert page["completed"] == len(page["data"])
    assert page["status"] == {"finish": "scraping", "cancel": "cancelled", "fail": "failed"}[ending]
