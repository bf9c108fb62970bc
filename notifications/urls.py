"""The notifications app's pages, under /notifications/."""

from django.urls import path

from notifications.views import mute, settings, unsubscribe

app_name = "notifications"

urlpatterns = [
    path("", settings.notification_settings, name="settings"),
    path("secret/", settings.new_webhook_secret, name="new_webhook_secret"),
    path("jobs/<int:pk>/mute/", mute.mute_job, name="mute_job"),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]
