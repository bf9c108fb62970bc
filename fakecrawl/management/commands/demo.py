"""`manage.py demo`: the whole product on this machine, against a simulated Firecrawl.

Starts the fakecrawl simulator in this process (real clock), resets a demo user with a key on
it, tracks seven batches (completed, running, with failures, large, hostile, with screenshots,
and one whose pages arrive by webhook) and two crawls, leaves one crawl untracked for Import
recent jobs to find, then runs the worker (`manage.py run_worker`, a child process) and the
development server. The demo user is emailed when jobs finish or need attention: the console
backend prints those emails in the worker's log, and the Notifications page lists them. Batches
and crawls started from the Start page run on the simulator too, and register the key's webhook.
Ctrl-C stops all.
The worker must accept the simulator's URL: run it with FIRECRAWL_API_URLS='*' (`make demo`),
and webhooks need the dashboard's PUBLIC_URL (`make demo` sets it to http://127.0.0.1:PORT).

`make demo` gives it a database of its own (.demo/db.sqlite3): in the development database the
demo's jobs would outlive the simulator, and the worker of `make run` would keep asking a port
nobody answers on. It refuses to run on that database.
"""

import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.throttle import clear_failures
from fakecrawl import FakeFirecrawl
from fakecrawl.server import DEFAULT_FORMATS
from jobs import start_options
from jobs.models import Job
from jobs.tasks import request_sync
from keys.models import ApiKey
from notifications.models import NotificationSettings

USERNAME = "demo"
PASSWORD = "demo-password-123"
EMAIL = "demo@example.test"
DEMO_KEY = "fc-demo0000000000000000000000000d3m0"
DEMO_CREDITS = 50_000
# The demo team's webhook secret: the simulator signs the key's webhooks with it, and the key has
# it saved, so deliveries are checked as with hosted Firecrawl.
DEMO_WEBHOOK_SECRET = "whsec-demo-0123456789abcdef"

SCREENSHOT_BATCH = "Screenshots (12 pages, two each)"
# label: create_batch() options. Rates are documents per second of the simulator's real clock.
BATCHES: dict[str, dict[str, Any]] = {
    "Docs site (completed, 50 pages)": {"n": 50, "state": "completed"},
    # Runs for about half an hour: whoever reads the page first still sees a live job.
    "Product catalogue (running, 3,000 pages)": {"n": 3000, "rate": 1.5, "fail_every": 40},
    "Blog archive (every 7th page fails)": {"n": 120, "rate": 5.0, "fail_every": 7},
    "Knowledge base (large, 2,000 pages)": {"n": 2000, "state": "completed", "doc_size": 3000},
    "Hostile content (scripts, RTL, huge lines)": {"n": 30, "state": "completed", "hostile": True},
    # Each page's own screenshot and one taken by a page action: the worker keeps both.
    SCREENSHOT_BATCH: {
        "n": 12,
        "state": "completed",
        "formats": ("markdown", "screenshot"),
        "actions": [{"type": "screenshot"}],
    },
    # Started with the key's webhook: each page scraped upstream is announced, and read at
    # once (its first page comes a few seconds after the demo starts, when the server listens).
    "Price list (pages arrive by webhook)": {
        "n": 400,
        "rate": 2.0,
        "start_offset": -8.0,
        "webhook": True,
    },
}
# label: (start URL, create_crawl() options), tracked like the batches.
CRAWLS: dict[str, tuple[str, dict[str, Any]]] = {
    "Handbook crawl (completed)": (
        "https://handbook.example.test",
        {"limit": 40, "state": "completed"},
    ),
    "Changelog crawl (running)": ("https://changelog.example.test", {"limit": 120, "rate": 1.5}),
}
# Started with the demo key but not tracked: what Import recent jobs (API keys) finds.
UNTRACKED_CRAWL: tuple[str, dict[str, Any]] = (
    "https://status.example.test",
    {"limit": 25, "rate": 1.0},
)
# Jobs started from the Start page scrape this many documents per second, so progress shows.
POST_RATE = 3.0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Run a demo: a simulated Firecrawl with batches and crawls, the worker and the web server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
        parser.add_argument("--sim-port", type=int, default=0, help="simulator port (0: any)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--log",
            default=str(Path(settings.BASE_DIR) / ".demo" / "worker.log"),
            help="the worker's log (default: .demo/worker.log, git-ignored)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if "*" not in settings.FIRECRAWL_API_URLS:
            raise CommandError(
                "The worker must accept the simulator's URL: run with FIRECRAWL_API_URLS='*' "
                "(make demo does)."
            )
        if _is_development_database():
            raise CommandError(
                "The demo needs a database of its own, not the development one (db.sqlite3), "
                "whose worker would keep retrying the demo's jobs once the simulator is gone. "
                "Run `make demo`, which uses .demo/db.sqlite3, or set DATABASE_URL."
            )
        # Ctrl-C must stop everything even when started from a shell that ignores SIGINT in
        # background jobs, and `kill` should clean up the same way.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        sim = FakeFirecrawl(
            seed=options["seed"],
            settle_seconds=2.0,
            post_rate=POST_RATE,
            # The dashboard listens on loopback: Firecrawl's ALLOW_LOCAL_WEBHOOKS.
            allow_local_webhooks=True,
        )
        sim.add_key(DEMO_KEY, team="demo", credits=DEMO_CREDITS, webhook_secret=DEMO_WEBHOOK_SECRET)
        sim_url = sim.start("127.0.0.1", options["sim_port"])
        self.stdout.write(f"Simulated Firecrawl at {sim_url}")
        worker: subprocess.Popen[bytes] | None = None
        # The worker logs every task twice a second: to a file, so the demo's banner stays read.
        log_path = Path(options["log"]).resolve()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.set_up(sim, sim_url)
            with log_path.open("wb") as log:
                # A session of its own: the terminal's Ctrl-C reaches this process only, and the
                # worker gets one SIGTERM below (a second signal would stop it mid-step).
                worker = subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker"],
                    cwd=settings.BASE_DIR,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            url = f"http://127.0.0.1:{options['port']}/"
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nDemo ready: {url}\nLog in as {USERNAME} / {PASSWORD}\n"
                    f"Worker log: {log_path} (notification emails are printed there)\n"
                    "Ctrl-C stops the web server, the worker and the simulator.\n"
                )
            )
            call_command(
                "runserver", f"127.0.0.1:{options['port']}", use_reloader=False, skip_checks=True
            )
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
            sim.stop()

    @transaction.atomic
    def set_up(self, sim: FakeFirecrawl, sim_url: str) -> None:
        # A fresh demo user each run: the previous run's jobs lived on a simulator that is gone.
        User.objects.filter(username=USERNAME).delete()
        user = User.objects.create_user(USERNAME, email=EMAIL, password=PASSWORD)
        # Told when jobs finish or need attention, at most once a minute per kind.
        notifications = NotificationSettings.objects.for_user(user)
        notifications.min_interval = NotificationSettings.Interval.MINUTE
        notifications.email_about_jobs()
        # The printed password must work at once, even after a run of mistyped ones.
        clear_failures(USERNAME)
        key = ApiKey.objects.create(
            owner=user,
            name="Demo (simulated)",
            key=DEMO_KEY,
            api_url=sim_url,
            # v2 answers with each job's creation time and duration, which the jobs list shows.
            api_version=ApiKey.Version.V2,
            is_default=True,
            remaining_credits=DEMO_CREDITS,
            credits_checked_at=timezone.now(),
            webhook_secret=DEMO_WEBHOOK_SECRET,
            webhooks_enabled=True,
        )
        if not key.webhook_url:
            self.stdout.write("  PUBLIC_URL is not set: no job's pages arrive by webhook")
        for label, batch in BATCHES.items():
            options = dict(batch)
            if options.pop("webhook", False) and key.webhook_url:
                options["webhook"] = key.webhook_url
            urls = [f"https://example.test/page/{i}" for i in range(1, options.pop("n") + 1)]
            remote_id = sim.create_batch(DEMO_KEY, urls, **options)
            job, _ = Job.objects.track(
                owner=user,
                api_key=key,
                remote_id=remote_id,
                kind=Job.Kind.BATCH,
                label=label,
                # As if started on the Start page: its options show, and Run again starts it.
                start_options=start_options.body(
                    Job.Kind.BATCH, key.api_version, {"formats": _formats_of(options)}
                ),
                start_urls=urls,
            )
            transaction.on_commit(partial(request_sync, job))
            self.stdout.write(f"  tracking {remote_id}  {label}")
        for label, (url, options) in CRAWLS.items():
            remote_id = sim.create_crawl(DEMO_KEY, url, **options)
            job, _ = Job.objects.track(
                owner=user,
                api_key=key,
                remote_id=remote_id,
                kind=Job.Kind.CRAWL,
                label=label,
                target_url=url,
            )
            transaction.on_commit(partial(request_sync, job))
            self.stdout.write(f"  tracking {remote_id}  {label}")
        url, options = UNTRACKED_CRAWL
        remote_id = sim.create_crawl(DEMO_KEY, url, **options)
        self.stdout.write(f"  not tracked {remote_id}  (API keys > Import recent jobs finds it)")


def _formats_of(options: dict[str, Any]) -> list[str]:
    """The formats the simulator gives a batch made with these create_batch() options."""
    if options.get("formats"):
        return list(options["formats"])
    return [*DEFAULT_FORMATS, *(["rawHtml"] if options.get("hostile") else [])]


def _is_development_database() -> bool:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return False
    return Path(database["NAME"]).resolve() == (Path(settings.BASE_DIR) / "db.sqlite3").resolve()
