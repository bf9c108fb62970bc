"""The background worker: django-tasks-db's db_worker plus a scheduler loop.

The scheduler queues syncs for due jobs at start-up and every few seconds, so jobs keep syncing
when nobody has a page open and after a worker was killed mid-sync.
"""

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from jobs.tasks import enqueue_due_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the background worker: sync tracked jobs from Firecrawl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schedule-every", type=float, default=5.0)
        parser.add_argument("--interval", type=float, default=0.5, help="Queue poll interval.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        scheduler = threading.Thread(
            target=self.schedule, args=(stop, options["schedule_every"]), daemon=True
        )
        scheduler.start()
        try:
            call_command(
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                str(options["interval"]),
            )
        finally:
            stop.set()

    def schedule(self, stop: threading.Event, every: float) -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                if queued := enqueue_due_jobs():
                    logger.info("Queued %d task(s)", queued)
            except Exception:
                logger.exception("The scheduler loop failed; trying again")
            finally:
                connection.close()
            stop.wait(every)
