"""What every view of the notifications app shares: the user's own settings."""

from firecrawl_dash.views import AuthenticatedRequest
from notifications.models import NotificationSettings


def get_settings_for_user(request: AuthenticatedRequest) -> NotificationSettings:
    """The logged-in user's notification settings (all off, unsaved, until they save some)."""
    return NotificationSettings.objects.for_user(request.user)
