"""Exactly once across a worker killed mid-send, in real processes: the worker is SIGKILLed while
the receiver (aiosmtpd, or an HTTP server) holds the connection before accepting; the next
worker sends the message once the lease runs out, and the receiver has it once.

What remains (a crash after the receiver accepted, before the row says sent) is described in
docs/RELIABILITY.md; it cannot be provoked here without a receiver that accepts and then waits.
"""

from pathlib import Path
from typing import Any, cast

import pytest

from keys.models import ApiKey
from notifications.models import Message, Notification
from notifications.tasks import enqueue_due_notifications
from tests.notifications.conftest import HOLD_LIMIT, Mailbox, Receiver, settled_job, subscribe
from tests.processes import start_worker
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Seconds: the lease is twice this and one more, so the second worker takes over after ~11 s.
SEND_TIMEOUT = "5"


def wait_for_status(message: Message, status: str, log: Path) -> Message:
    def reached() -> bool:
        message.refresh_from_db()
        return message.status == status

    try:
        wait_until(reached, f"the message {status}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still {message.status}:\n{log.read_text()[-3000:]}") from None
    return message


def kill_while_held(holding: Any, log: Path, **env: str) -> None:
    """Start a worker, wait until the receiver holds its send, SIGKILL it."""
    worker = start_worker(log, **cast(dict[str, Any], env))
    try:
        assert holding.wait(HOLD_LIMIT), log.read_text()[-3000:]
    finally:
        worker.kill()
        worker.wait(10)


def finish_with_a_second_worker(log: Path, **env: str) -> Message:
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.SENDING, 1)
    worker = start_worker(log, **cast(dict[str, Any], env))
    try:
        return wait_for_status(message, Message.Status.SENT, log)
    finally:
        worker.terminate()
        worker.wait(20)


def assert_nothing_more_to_send() -> None:
    # Further rounds (a restart, more polls) find no new event and nothing due.
    for _ in range(3):
        enqueue_due_notifications()
    assert Notification.objects.count() == 1 and Message.objects.count() == 1
    assert not Message.objects.due().exists()


def test_a_worker_killed_while_the_mail_server_holds_the_message_leaves_one_email(
    alice: Any, key: ApiKey, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = mailbox
    subscribe(alice)
    settled_job(key)
    box.hold = True
    log = tmp_path / "worker.log"
    env = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NOTIFY_DIGEST_SECONDS": "0",
        "NOTIFY_SEND_TIMEOUT": SEND_TIMEOUT,
    }
    kill_while_held(box.holding, log, **env)
    # The server saw its client go before it said 250: that copy is not delivered.
    assert box.abandoned.wait(HOLD_LIMIT)
    box.hold = False
    box.release.set()
    message = finish_with_a_second_worker(log, **env)
    assert box.count() == 1
    assert message.attempts == 2
    assert box.messages[0]["Message-ID"].startswith(f"<{message.uid}@")
    assert_nothing_more_to_send()


def test_a_worker_killed_while_the_webhook_receiver_holds_the_call_leaves_one_call(
    alice: Any, key: ApiKey, receiver: Receiver, tmp_path: Path
) -> None:
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key)
    receiver.hold = True
    log = tmp_path / "worker.log"
    env = {
        "NOTIFY_WEBHOOK_ALLOW_PRIVATE": "true",
        "NOTIFY_DIGEST_SECONDS": "0",
        "NOTIFY_SEND_TIMEOUT": SEND_TIMEOUT,
    }
    kill_while_held(receiver.holding, log, **env)
    receiver.hold = False
    receiver.release.set()  # the held handler finds its client gone: nothing accepted
    message = finish_with_a_second_worker(log, **env)
    assert receiver.count() == 1
    assert receiver.attempts == 2
    assert message.attempts == 2
    assert receiver.received[0].json()["id"] == str(message.uid)
    assert_nothing_more_to_send()
