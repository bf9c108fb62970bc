"""The background worker: django-tasks-db's worker loop plus a scheduler loop.

The scheduler queues syncs for due jobs (and indexing for documents not yet searchable) at
start-up and every few seconds, so jobs keep syncing when nobody has a page open and after a
worker was killed mid-sync; the automatic imports of keys that opted in, so a job started
elsewhere with such a key is tracked (and cached) without anyone pasting its id; and the
notifications (events found, gathered into messages, their sends queued).
"""

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from jobs.tasks import enqueue_due_imports, enqueue_due_jobs
from notifications.tasks import enqueue_due_notifications

logger = logging.getLogger(__name__)

# Seconds between two looks for keys due an automatic import (keys.listings.IMPORT_INTERVAL apart).
IMPORTS_CHECK_EVERY = 10.0


class GracefulWorker(db_worker.Worker):
    """db_worker's loop, stopped by a signal only between two steps.

    The stock worker calls sys.exit() from its signal handler whenever no task is running,
    which can land in the middle of claiming one (inside the COMMIT): the claim may then be
    committed for a worker that is gone. Here the first SIGTERM or SIGINT only ends the loop,
    after the claim or task in hand (or the current wait of at most --interval); a second one
    still exits at once.
    """

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            super().shutdown(signum, frame)
            return
        logger.warning("Received %s - stopping after the current step", signal.strsignal(signum))
        self.running = False


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
        worker = GracefulWorker(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            excluded_queue_names=[],
            interval=options["interval"],
            batch=False,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
        )
        # db_worker's own log set-up: its "task started/finished" lines go to stdout.
        db_worker.Command().configure_logging(options["verbosity"])
        scheduler.start()
        try:
            worker.configure_signals()
            worker.run()
        finally:
            stop.set()

    def schedule(self, stop: threading.Event, every: float) -> None:
        # The first look comes a few seconds after start-up, when the due syncs are queued.
        imports_checked = time.monotonic()
        while not stop.is_set():
            try:
                close_old_connections()
                queued = enqueue_due_jobs()
                queued += enqueue_due_notifications()
                # Imports are due every few minutes: no need to ask each round.
                if time.monotonic() - imports_checked >= IMPORTS_CHECK_EVERY:
                    imports_checked = time.monotonic()
                    queued += enqueue_due_imports()
                if queued:
                    logger.info("Queued %d task(s)", queued)
            except Exception:
                logger.exception("The scheduler loop failed; trying again")
            finally:
                connection.close()
            stop.wait(every)
