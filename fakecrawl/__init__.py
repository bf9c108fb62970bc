"""fakecrawl: a standalone simulator of the Firecrawl job API (batch scrape, crawl, credits).

with FakeFirecrawl(seed=0) as sim:
    sim.add_key("fc-test")
    job_id = sim.create_batch("fc-test", n=250, rate=10)
    ...  # point the client at sim.url
"""

from fakecrawl.faults import Fault
from fakecrawl.jobs import Job, ManualClock
from fakecrawl.server import FakeFirecrawl, RequestRecord

__all__ = ["FakeFirecrawl", "Fault", "Job", "ManualClock", "RequestRecord"]
