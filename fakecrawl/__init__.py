"""fakecrawl: a standalone simulator of the Firecrawl job API (batch scrape, crawl, credits).

with FakeFirecrawl(seed=0, clock=ManualClock(), settle_seconds=3) as sim:
    sim.add_key("fc-test", team="alice", credits=1000)
    batch_id = sim.create_batch("fc-test", n=250, rate=10)
    crawl_id = sim.create_crawl("fc-test", "https://docs.example.test", include_paths=["^/blog"])
    ...  # point the client at sim.url; POST /v{1,2}/batch/scrape and /crawl start jobs too
    sim.count_requests("POST", "/batch/scrape")

Behaviours beyond the basics, each an option of FakeFirecrawl: a cancel settling in the background
(cancel_settle_seconds, cancel_in_flight), `completed` lagging `data` (completed_lag), the job
listings GET /v2/team/activity (activity) and GET /v{1,2}/crawl/active (active_crawls),
x-idempotency-key as the server checks it (idempotency_db), a self-hosted server without its
database (self_hosted: its activity listing answers 500), webhooks per job and server-wide
(fakecrawl.webhooks: sim.wait_for_webhooks(), sim.webhook_deliveries), screenshots on a storage
host of its own or inline (fakecrawl.screenshots), a per-request latency (latency), and faults
and floods for hostile upstreams (fakecrawl.faults: sim.inject()).
"""

from fakecrawl.faults import Fault
from fakecrawl.jobs import Job, ManualClock
from fakecrawl.server import FakeFirecrawl, RequestRecord
from fakecrawl.webhooks import WebhookDelivery

__all__ = ["FakeFirecrawl", "Fault", "Job", "ManualClock", "RequestRecord", "WebhookDelivery"]
