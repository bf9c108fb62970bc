"""Schemathesis against the running app: every operation of /api/v1/openapi.json, examples,
coverage, fuzzing and stateful sequences (a tracked job's id followed into reading, listing its
documents and stopping tracking it), with a real token, finding no server error and no answer
that the document does not describe."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey
from tests.api.conftest import token_for
from tests.conftest import ALICE_KEY, make_documents, make_failed_urls, make_job

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Enough cases per operation to hit every parameter's edges, few enough for about a minute.
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server: Any, alice: User, sim: FakeFirecrawl, key: ApiKey, settings: Any, tmp_path: Path
) -> None:
    # Thousands of requests with one token: the rate limit is tested on its own (test_auth).
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    remote = sim.create_batch(ALICE_KEY, n=5, state="completed")
    job = make_job(key, remote, label="Fuzzed", status=Job.Status.COMPLETED)
    make_documents(job, 30)
    make_failed_urls(job, "https://example.test/broken", code="TIMEOUT")
    token = token_for(alice)

    command = [
        str(SCHEMATHESIS),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        # Schema-valid requests the app's forms refuse with a 400 and a message: an opaque
        # cursor that is not one of ours, text that holds no job id, a URL the start form does
        # not take, a null character. A JSON schema cannot state those rules; the forms are
        # their one home. Every other check runs, negative_data_rejection included.
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "1",
        "--seed",
        "20261206",
        "--request-timeout",
        "60",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False
    )
    print(result.stdout[-20000:])  # shown by pytest when the assertion fails
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Stateful" in result.stdout  # the stateful phase ran, it was not skipped
