from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("jobs.urls")),
    path("keys/", include("keys.urls")),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
]
