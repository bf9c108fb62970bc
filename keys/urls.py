"""The keys app's pages, under /keys/: the API keys page, a key's page and actions, its import
page, and the webhook receiver (a key's webhook URL: no log-in, its token in the path)."""

from django.urls import path

from keys.views import imports, keys, webhooks

app_name = "keys"

urlpatterns = [
    path("", keys.keys, name="keys"),
    path("<int:pk>/", keys.key_detail, name="key"),
    path("<int:pk>/webhooks/", keys.save_webhook_settings, name="key_webhooks"),
    path("<int:pk>/rename/", keys.rename_key, name="rename_key"),
    path("<int:pk>/default/", keys.make_default_key, name="make_default_key"),
    path("<int:pk>/delete/", keys.delete_key, name="delete_key"),
    path("<int:pk>/import/", imports.import_jobs, name="import_jobs"),
    path("<int:pk>/auto-import/", imports.auto_import, name="auto_import"),
    path("webhook/<str:token>/", webhooks.receive, name="webhook"),
]
