"""The JSON API under /api/v1/: a person's jobs, documents and downloads for scripts and
pipelines, authenticated by personal API tokens (accounts.models.ApiToken), never by a session.

Built with django-ninja (the OpenAPI 3.1 document comes from these modules' signatures and
schemas); every rule it applies is the app's own: the forms the pages validate with, the
models' properties, the same streamed exports, jobs.starting's claim. See docs/ARCHITECTURE.md.
"""
