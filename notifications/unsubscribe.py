"""The unsubscribe link of every email: signed for one user and one kind of email, so it works
without logging in (and from a mail client's one-click button) and for nothing else."""

from django.core import signing

from notifications.models import Kind, Message

SALT = "notifications.unsubscribe"


def token(message: Message) -> str:
    return signing.dumps([message.owner_id, message.kind], salt=SALT)


def read(value: str) -> tuple[int, str] | None:
    """(user id, kind) from a token, or None when it was not made here (or was altered)."""
    try:
        user_id, kind = signing.loads(value, salt=SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or kind not in Kind.values:
        return None
    return user_id, kind
