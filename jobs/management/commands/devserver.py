"""`manage.py devserver`: what `make run` starts, Django's development server and the worker
together, both stopped by one Ctrl-C, quietly.

The worker runs in a session of its own, so the terminal's Ctrl-C reaches only the web server;
the worker then gets exactly one SIGTERM, which it finishes gracefully (a second signal would
make it exit at once, mid-step, with a traceback). A second Ctrl-C stops it at once.
"""

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

# How long to wait for the worker to finish the task in hand before saying so.
PATIENCE_SECONDS = 3


class Command(BaseCommand):
    help = "Run the development web server and the background worker; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        address = options["addrport"]
        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            # The reloader's child, which serves (and is restarted on code changes): the
            # process that started it runs the worker.
            call_command("runserver", address)
            return
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )
        self.stdout.write(
            f"Serving http://{address}/  (Ctrl-C stops the web server and the worker)"
        )
        try:
            # Django's runserver, with its reloader: it ends on Ctrl-C (and on SIGTERM).
            call_command("runserver", address)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop(worker)

    def stop(self, worker: subprocess.Popen[bytes]) -> None:
        if worker.poll() is not None:
            return
        worker.terminate()
        try:
            worker.wait(timeout=PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            self.stdout.write("Waiting for the worker to finish its task (Ctrl-C: stop it now)…")
            try:
                worker.wait()
            except KeyboardInterrupt:
                worker.kill()
                worker.wait()
