"""The webhook receiver: Firecrawl POSTs a key's job events to the key's own URL.

The one view that needs no log-in and no CSRF token: the key's token in the path (192 random
bits) is what admits a delivery, and with a secret saved on the key, only a delivery signed with
it (`X-Firecrawl-Signature`) is accepted. Every request is bounded before any work: a rate per
token (FIRECRAWL_WEBHOOK_RATE_PER_MINUTE), a body size (MAX_BODY_BYTES), then the signature,
then the event's shape. A refusal changes nothing but a counter on the key, shown on
its page. An accepted delivery is recorded by its `webhookId` (a replay changes nothing), its
event applied (jobs.webhooks: database writes only), and the job's read queued for the worker:
the answer comes without waiting on Firecrawl.
"""

import math

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from firecrawl_api.webhooks import (
    SIGNATURE_HEADER,
    MalformedEvent,
    WebhookEvent,
    signature_matches,
)
from jobs import tasks
from jobs.webhooks import apply_event
from keys.budget import admit_webhook_delivery
from keys.models import ApiKey, WebhookReceipt

WRONG_SIGNATURE = "a wrong or missing signature"
# The largest delivery read: a page event carries the scraped document, and Firecrawl's pages
# hold up to ~10 M characters of JSON. A larger one is refused (413) before it is read.
MAX_BODY_BYTES = 16 * 2**20


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest, token: str) -> JsonResponse:
    key = (
        ApiKey.objects.select_related("owner")
        .defer("key", "auto_import_seen")
        .filter(webhook_token=token)
        .first()
    )
    if key is None:
        return _answer(404, "No such webhook URL")
    wait = admit_webhook_delivery(key.pk)
    if wait is not None:
        key.record_refusal("over the rate limit")
        response = _answer(429, "Too many deliveries to this URL this minute")
        response["Retry-After"] = str(math.ceil(wait))
        return response
    body = _read_body(request)
    if body is None:
        key.record_refusal(f"a delivery larger than {MAX_BODY_BYTES:,} bytes")
        return _answer(413, "The delivery is too large")
    if key.webhook_secret and not signature_matches(
        key.webhook_secret, body, request.headers.get(SIGNATURE_HEADER)
    ):
        key.record_refusal(WRONG_SIGNATURE)
        return _answer(401, "Wrong or missing signature")
    try:
        event = WebhookEvent.from_body(body)
    except MalformedEvent as exc:
        key.record_refusal(str(exc))
        return _answer(400, str(exc))
    with transaction.atomic():
        if not WebhookReceipt.objects.record(key, event.webhook_id):
            return _answer(200, "Already received")
        outcome = apply_event(key, event)
        key.record_delivery(timezone.now())
    if outcome.refusal:
        key.record_refusal(outcome.refusal)
    if outcome.job is not None:
        tasks.request_sync(outcome.job, when=outcome.read_at, sooner=True)
    return _answer(200, "Received")


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body (the signature covers its exact bytes), or None past the size limit:
    refused from its Content-Length before reading, or as soon as more arrived."""
    limit = MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _answer(status: int, message: str) -> JsonResponse:
    key = "message" if status < 400 else "error"
    return JsonResponse({key: message}, status=status)
