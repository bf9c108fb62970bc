"""WSGI entry point (gunicorn firecrawl_dash.wsgi). Downloads stream best under WSGI."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firecrawl_dash.settings")

application = get_wsgi_application()
