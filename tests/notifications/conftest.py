"""Real receivers for notifications: an SMTP server (aiosmtpd, in this process, on a free port)
and an HTTP server, each recording what it accepted and able to hold a connection open before
accepting (the crash tests kill a worker then). Plus Alice's settings and a settled job."""

import asyncio
import email
import email.policy
import json
import select
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from jobs.models import Job
from keys.models import ApiKey
from notifications import models
from notifications.models import NotificationSettings
from tests.conftest import make_job

# Long enough for a slow machine; a receiver never holds a connection longer.
HOLD_LIMIT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd's handler: the messages accepted (a 250 to a client still connected)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None  # e.g. "451 4.3.0 Try again later": refuse instead
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.abandoned = threading.Event()  # the held client went away
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        if self.hold:
            self.holding.set()
            # aiosmtpd cancels this coroutine if the client goes away meanwhile: a message
            # whose DATA was never acknowledged is not delivered (as with any real MTA).
            waited = 0.0
            try:
                while not self.release.is_set() and waited < HOLD_LIMIT:
                    await asyncio.sleep(0.05)
                    waited += 0.05
            except asyncio.CancelledError:
                self.abandoned.set()
                raise
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()  # returns once the server answers
    yield box, controller.port
    box.release.set()
    controller.stop()


@pytest.fixture
def smtp(mailbox: tuple[Mailbox, int], settings: Any) -> Mailbox:
    """Django's SMTP backend aimed at the in-process server."""
    box, port = mailbox
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.DEFAULT_FROM_EMAIL = "dashboard@example.test"
    return box


class Received:
    """One request the HTTP receiver accepted."""

    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path = path
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver: records what it accepted, answers `status` (a list is used up one
    answer per request, then its last one repeats)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), _ReceiverHandler)
        self.received: list[Received] = []
        self.attempts = 0  # every request, accepted or not
        self.statuses: list[int] = [200]
        self.answer = b"ok"
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.attempts += 1
        if self.server.hold:
            self.server.holding.set()
            self.server.release.wait(HOLD_LIMIT)
            if _client_gone(self.connection):
                return  # nobody to answer: not accepted
        status = self.server.next_status()
        if 200 <= status < 300:
            with self.server.lock:
                self.server.received.append(Received(self.path, dict(self.headers), body))
        self.send_response(status)
        self.send_header("Content-Length", str(len(self.server.answer)))
        self.end_headers()
        self.wfile.write(self.server.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _client_gone(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Queued tasks run at once, in the test: a scheduler round sends what it queues."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def notify_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Events are gathered at once and retried at once: tests call rounds themselves.
    settings.NOTIFY_DIGEST_SECONDS = 0
    monkeypatch.setattr(models, "RETRY_BACKOFF", timedelta(0))
    settings.NOTIFY_SEND_TIMEOUT = 5
    settings.PUBLIC_URL = "https://dash.example.test"


def subscribe(
    user: Any, *, email: str = "alice@example.test", webhook_url: str = "", **flags: bool
) -> NotificationSettings:
    """Turn notifications on for the user, as the page would, an hour ago."""
    user.email = email
    user.save(update_fields=["email"])
    prefs = NotificationSettings.objects.for_user(user)
    before = prefs.subscriptions(user.email)
    for name, value in {"email_finished": True, "email_attention": True, **flags}.items():
        setattr(prefs, name, value)
    prefs.webhook_url = webhook_url
    prefs.min_interval = NotificationSettings.Interval.MINUTE
    prefs.start_clocks(before, user.email, timezone.now() - timedelta(hours=1))
    prefs.save()
    return prefs


# What an owner may do to a job that silences it: mute it, or stop tracking it (its rows are
# deleted later, in the background).
SILENCING: dict[str, Callable[[Job], None]] = {
    "muted": lambda job: job.set_notifications_muted(True),
    "no longer tracked": Job.stop_tracking,
}


def settled_job(key: ApiKey, **fields: Any) -> Job:
    """A job that completed and settled a moment ago, every document cached."""
    values: dict[str, Any] = {
        "status": Job.Status.COMPLETED,
        "sync_state": Job.SyncState.SETTLED,
        "settled_at": timezone.now(),
        "completed": 10,
        "total": 10,
        "documents_cached": 10,
        "next_skip": 10,
        "fully_cached": True,
        "credits_used": 10,
        **fields,
    }
    return make_job(key, str(uuid.uuid4()), **values)
