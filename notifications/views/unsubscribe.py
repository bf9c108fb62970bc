"""The unsubscribe link of every email: no log-in needed, the signed token is the proof.

GET asks (a link scanner that follows every link must not unsubscribe anyone); POST, from that
page or from a mail client's one-click button (RFC 8058, which carries no CSRF token), does it.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from notifications import unsubscribe as tokens
from notifications.models import Kind, NotificationSettings

# What each kind of email is about, as the page says it.
TOPICS = {
    Kind.FINISHED: "jobs that finish",
    Kind.ATTENTION: "jobs that need attention",
    Kind.FOUND: "new jobs found",
}


@login_not_required
@csrf_exempt
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = tokens.read(token)
    if found is None:
        raise Http404("This unsubscribe link is not valid")
    user_id, kind = found
    done = request.method == "POST"
    prefs = NotificationSettings.objects.filter(user=user_id).first()
    if done and prefs is not None:  # no settings: nothing was on
        prefs.unsubscribe(kind)
    context = {"topic": TOPICS[Kind(kind)], "done": done, "token": token}
    return render(request, "notifications/unsubscribe.html", context)
