"""What every view of the keys app shares: a key reached through its owner."""

from django.shortcuts import get_object_or_404

from firecrawl_dash.views import AuthenticatedRequest
from keys.models import ApiKey


def get_key_for_user(request: AuthenticatedRequest, pk: int) -> ApiKey:
    """The user's key, or a 404: another user's key id looks exactly like a missing one."""
    return get_object_or_404(ApiKey, pk=pk, owner=request.user)
