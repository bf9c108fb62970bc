"""Django system checks of the jobs app's settings: rules between settings that no single
setting's parser can see (`manage.py check`, and every command that runs the checks, fails)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def deadline_below_lease(**kwargs: Any) -> list[CheckMessage]:
    """A sync renews its job's lease after every page and stops after about one worker
    deadline: with a deadline as long as the lease, the lease runs out while the sync still
    works, and a second sync takes the job over."""
    deadline = settings.FIRECRAWL_WORKER_DEADLINE
    lease = settings.FIRECRAWL_SYNC_LEASE_SECONDS
    if deadline < lease:
        return []
    return [
        Error(
            f"FIRECRAWL_WORKER_DEADLINE ({deadline:g} s) must be below "
            f"FIRECRAWL_SYNC_LEASE_SECONDS ({lease} s).",
            hint="Lower the deadline or lengthen the lease; the default is 60 s against 120 s.",
            id="jobs.E001",
        )
    ]
