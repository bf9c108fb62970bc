"""A cancel on the simulator: answered at once, settled in the background as on the real server.

Measured on the 2026 server (FIRECRAWL.md): after DELETE the status reads `cancelled` at once, but
for several seconds `total` shrinks step by step to `completed` while `/errors` grows, as the
unfinished URLs are failed one by one. The tests replay those measured sequences.
"""

from __future__ import annotations

from typing import Any

from fakecrawl import FakeFirecrawl, ManualClock
from fakecrawl.jobs import CANCELLED_ERROR
from tests.fakecrawl.support import ALICE, Api, capture, head, shape

# One failure every 1/8 s: the settle times below are exact in binary floating point.
STEP = 0.125


def cancel_after(api: Api, clock: ManualClock, *, urls: int, done: int) -> str:
    """A running batch of `urls` URLs cancelled when `done` documents are in."""
    job_id = api.sim.create_batch(ALICE, n=urls, rate=1.0)
    clock.advance(done)
    assert api.delete(f"/v2/batch/scrape/{job_id}").json() == {"status": "cancelled"}
    return job_id


class AfterCancel:
    """Reads of a job at given times after its cancel."""

    def __init__(self, api: Api, clock: ManualClock, job_id: str) -> None:
        self.api, self.clock, self.job_id = api, clock, job_id
        self.elapsed = 0.0

    def read(self, seconds: float) -> tuple[Any, ...]:
        """(status, completed, total, failed URLs) `seconds` after the cancel."""
        self.clock.advance(seconds - self.elapsed)
        self.elapsed = seconds
        page = self.api.status(self.job_id, "?limit=1")
        failed = len(self.api.errors(self.job_id))
        return page["status"], page["completed"], page["total"], failed


def test_the_measured_cancel_of_150_urls_ends_at_38_of_38_with_112_failed(
    api: Api, clock: ManualClock
) -> None:
    api.sim.cancel_settle_seconds = 112 * STEP
    after = AfterCancel(api, clock, cancel_after(api, clock, urls=150, done=38))

    reads = [after.read(t) for t in (0.0, 10.5, 12.125, 12.375, 14.0, 60.0)]

    assert [total for _, _, total, _ in reads] == [150, 66, 53, 51, 38, 38]
    assert [failed for *_, failed in reads] == [0, 84, 97, 99, 112, 112]
    assert {(status, completed) for status, completed, _, _ in reads} == {("cancelled", 38)}


def test_the_measured_cancel_of_job_f_ends_at_30_of_30_with_270_failed(
    api: Api, clock: ManualClock
) -> None:
    api.sim.cancel_settle_seconds = 270 * STEP
    after = AfterCancel(api, clock, cancel_after(api, clock, urls=300, done=30))

    reads = [after.read(t) for t in (22.75, 24.125, 33.75)]

    assert reads == [
        ("cancelled", 30, 118, 182),
        ("cancelled", 30, 107, 193),
        ("cancelled", 30, 30, 270),
    ]


def test_cancelled_urls_fail_with_the_servers_cancel_error(api: Api, clock: ManualClock) -> None:
    api.sim.cancel_settle_seconds = 4.0
    job_id = cancel_after(api, clock, urls=12, done=4)
    clock.advance(1.0)

    errors = api.errors(job_id)
    clock.advance(3.0)
    settled = api.errors(job_id)

    assert len(errors) == 2 and len(settled) == 8
    assert [list(entry) for entry in settled] == [["id", "timestamp", "url", "error"]] * 8
    assert {entry["error"] for entry in settled} == {CANCELLED_ERROR}
    assert settled[:2] == errors  # entries are appended, never rewritten
    scraped = {doc["metadata"]["sourceURL"] for doc in api.status(job_id)["data"]}
    assert not scraped & {entry["url"] for entry in settled}
    assert len(scraped) + len(settled) == 12


def test_urls_being_scraped_at_the_cancel_still_finish_as_captured(
    api: Api, clock: ManualClock
) -> None:
    # Captures 169-174: 10 of 40 done at the cancel, 12 of 12 twenty seconds later.
    api.sim.cancel_settle_seconds = 10.0
    api.sim.cancel_in_flight = 2
    job_id = api.sim.create_batch(ALICE, n=40, rate=2.0)
    clock.advance(5)

    deleted = api.delete(f"/v2/batch/scrape/{job_id}")
    right_after = api.status(job_id, "?limit=1")
    errors_right_after = api.get(f"/v2/batch/scrape/{job_id}/errors").json()
    deleted_again = api.delete(f"/v2/batch/scrape/{job_id}")
    clock.advance(20)
    later = api.status(job_id, "?limit=1")

    assert deleted.json() == capture("170_v2_cancel_delete_running")[1]
    assert deleted_again.json() == capture("173_v2_cancel_delete_again")[1]
    assert errors_right_after == capture("172_v2_cancel_errors_after")[1]
    for ours, name in [(right_after, "171_v2_cancel_get_after"), (later, "174_v2_cancel")]:
        real = capture(name)[1]
        assert shape(ours) == shape(real)
        assert (ours["status"], ours["completed"], ours["total"]) == (
            real["status"],
            real["completed"],
            real["total"],
        )
    assert later["completedAt"] > right_after["completedAt"]  # the last document's time


def test_the_2025_server_settles_a_cancel_as_its_captures_show(
    api: Api, clock: ManualClock
) -> None:
    # Captures 079-084: 0 of 40 at the cancel, 8 of 8 with no `next` eight seconds later.
    api.sim.set_mode("2025")
    api.sim.cancel_settle_seconds = 5.0
    api.sim.cancel_in_flight = 8
    job_id = api.sim.create_batch(ALICE, n=40, rate=2.0, start_offset=-10, uuid_version=4)
    clock.advance(1)

    before = api.status(job_id, "?limit=1", version=1)
    api.delete(f"/v1/batch/scrape/{job_id}")
    after = api.status(job_id, "?limit=1", version=1)
    clock.advance(8)
    later = api.status(job_id, "?limit=1", version=1)

    for ours, name in [
        (before, "079_v1_cancel_get_before"),
        (after, "081_v1_cancel_get_after"),
        (later, "084_v1_cancel_get_after_8s"),
    ]:
        real = capture(name, "2025")[1]
        assert shape(head(ours)) == shape(head(real)), name
        assert [ours[k] for k in ("status", "completed", "total", "creditsUsed")] == [
            real[k] for k in ("status", "completed", "total", "creditsUsed")
        ], name


def test_a_cancel_settles_at_once_by_default(api: Api, clock: ManualClock) -> None:
    job_id = cancel_after(api, clock, urls=10, done=4)

    page = api.status(job_id)

    assert (page["status"], page["completed"], page["total"]) == ("cancelled", 4, 4)
    assert len(api.errors(job_id)) == 6


def test_the_cancel_settles_over_settle_seconds_unless_told_otherwise(
    clock: ManualClock,
) -> None:
    with FakeFirecrawl(clock=clock, settle_seconds=6.0) as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        job_id = cancel_after(api, clock, urls=10, done=4)

        clock.advance(3.0)
        halfway = api.status(job_id)["total"]
        clock.advance(3.0)

        assert (halfway, api.status(job_id)["total"]) == (7, 4)


def test_a_crawl_cancelled_midway_never_finds_the_pages_it_did_not_reach(
    api: Api, clock: ManualClock
) -> None:
    api.sim.cancel_settle_seconds = 2.0
    job_id = api.sim.create_crawl(ALICE, "https://docs.example.com", rate=1.0)
    clock.advance(2)  # the start page and one section: the other sections are known, not scraped

    assert api.delete(f"/v2/crawl/{job_id}").status_code == 200
    clock.advance(2)
    page = api.crawl(job_id)

    assert (page["status"], page["completed"], page["total"]) == ("cancelled", 2, 2)
    assert len(api.errors(job_id)) == 5  # two sections and the first section's three pages
