"""Sending one message: by email through Django's mail settings, or as a signed webhook call.

Each send ends within NOTIFY_SEND_TIMEOUT (a watchdog cuts a stalled SMTP conversation too).
Failures are SendFailed, saying whether trying again later can help; the task decides (see
notifications.tasks). Never called inside a transaction: it talks to the network.
"""

import json
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers

from firecrawl_api.text import cut
from notifications import outgoing, signatures
from notifications.content import absolute, unsubscribe_url
from notifications.models import Message, NotificationSettings

USER_AGENT = "firecrawl-dashboard-notifications"


class SendFailed(Exception):
    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


def message_id(message: Message) -> str:
    """The same on every attempt, so a mail system (or a person) can drop a second copy."""
    domain = urlsplit(absolute("/")).hostname or "localhost"
    return f"<{message.uid}@{domain}>"


def send_email(message: Message, address: str) -> None:
    link = unsubscribe_url(message)
    headers = {
        "Message-ID": message_id(message),
        "Auto-Submitted": "auto-generated",
        # RFC 8058: mail clients offer an unsubscribe button that POSTs here, no log-in needed.
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    email = EmailMultiAlternatives(message.subject, message.text, to=[address], headers=headers)
    email.attach_alternative(message.html, "text/html")
    mailer = mailers.default  # a connection of its own

    def abort() -> None:
        # The conversation so far: while logging in it is still the backend's partial one.
        for name in ("_partial_connection", "connection"):
            outgoing.shut(getattr(getattr(mailer, name, None), "sock", None))

    try:
        with outgoing.deadline(settings.NOTIFY_SEND_TIMEOUT, abort) as fired:
            try:
                mailer.send_messages([email])
            except smtplib.SMTPRecipientsRefused as exc:
                replies = list(exc.recipients.values())
                raise SendFailed(
                    f"The mail server refused {address}: {_reply(replies[0])}",
                    retry=not all(code >= 500 for code, _ in replies),
                ) from None
            except smtplib.SMTPResponseException as exc:
                # 5xx is permanent (a refused sender, a message refused as such); 4xx is not.
                raise SendFailed(
                    f"The mail server answered {exc.smtp_code}: {_text(exc.smtp_error)}",
                    retry=exc.smtp_code < 500,
                ) from None
            except ValueError as exc:  # an address no mail server could take
                raise SendFailed(f"Cannot send to {address}: {exc}", retry=False) from None
            except (smtplib.SMTPException, OSError) as exc:
                if fired.is_set() or isinstance(exc, TimeoutError):
                    raise SendFailed(
                        f"The mail server took longer than {settings.NOTIFY_SEND_TIMEOUT:g} s",
                        retry=True,
                    ) from None
                raise SendFailed(f"Could not send the email: {exc}", retry=True) from None
    finally:
        mailer.close()


def _text(value: bytes | str) -> str:
    # A server's words: shown on the page, so cleaned and cut like any upstream string.
    return cut(value.decode(errors="replace") if isinstance(value, bytes) else value, 300)


def _reply(reply: tuple[int, bytes]) -> str:
    return f"{reply[0]} {_text(reply[1])}"


def webhook_request(message: Message, secret: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the webhook call (what the signature covers: the body, exactly)."""
    body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signatures.HEADER: signatures.sign(secret, body),
        "X-Dashboard-Event": str(message.payload.get("event", "")),
        # The same on every attempt, like the body's `id`: a receiver can drop a second copy.
        "X-Dashboard-Delivery": str(message.uid),
    }
    return body, headers


def send_webhook(message: Message, prefs: NotificationSettings) -> None:
    body, headers = webhook_request(message, prefs.webhook_secret)
    try:
        answer = outgoing.call(
            prefs.webhook_url,
            body,
            headers,
            allow_private=settings.NOTIFY_WEBHOOK_ALLOW_PRIVATE,
            timeout=settings.NOTIFY_SEND_TIMEOUT,
        )
    except outgoing.OutgoingError as exc:
        raise SendFailed(str(exc), retry=exc.retry) from None
    if not answer.ok:
        said = cut(answer.body[:800].decode(errors="replace").strip(), 200)
        raise SendFailed(
            f"The webhook answered {answer.status} {cut(answer.reason, 100)}"
            + (f": {said}" if said else ""),
            retry=True,
        )
