"""ASGI entry point. Prefer WSGI in production: sync streaming responses are buffered under ASGI."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firecrawl_dash.settings")

application = get_asgi_application()
