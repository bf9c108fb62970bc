"""The production web server's settings (firecrawl_dash/gunicorn.py): a download that takes
longer than gunicorn's worker timeout, to a client that reads slowly, arrives whole.

With gunicorn's default sync workers the master kills such a worker mid-download (it hears from
a sync worker only between requests), and the client gets a cut-off zip.

Each worker also imports every view as it starts, not during its first request.
"""

import http.client
import io
import json
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_job
from tests.processes import WebServer, session_for

# The workers' timeout for this test: the client below stalls for several times this long.
TIMEOUT = 1
STALL = 4 * TIMEOUT


class SlowReader(http.client.HTTPConnection):
    """A client on a slow link: a small receive window, so the server's writes block as soon as
    a little is in flight, whatever the size of the zip."""

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebServer]:
    server = WebServer(tmp_path / "gunicorn.log", "--timeout", str(TIMEOUT))
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_download_slower_than_the_worker_timeout_arrives_whole(
    key: ApiKey, sim: FakeFirecrawl, web: WebServer, alice: Any
) -> None:
    # Far more than the socket buffers between the server and the client hold: the server is
    # still writing, blocked, while the client stalls.
    remote_id = sim.create_batch(ALICE_KEY, n=600, state="completed", doc_size=20_000)
    job = make_job(key, remote_id)
    while not Job.objects.get(pk=job.pk).is_settled:
        sync_job(job.pk)
    job.refresh_from_db()
    session = session_for(alice).cookies["sessionid"]

    client = SlowReader("127.0.0.1", web.port, timeout=60)
    cookie = {"Cookie": f"sessionid={session}"}
    client.request("GET", f"/jobs/{job.pk}/download.zip", headers=cookie)
    response = client.getresponse()
    assert response.status == 200
    body = response.read(64 * 1024)
    time.sleep(STALL)  # the slow link: the user's side, not a wait for the server
    body += response.read()  # a cut-off stream raises IncompleteRead here
    client.close()

    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    assert len(archive.read("documents.jsonl").splitlines()) == job.documents_cached == 600
    assert json.loads(archive.read("manifest.json"))["complete"] is True
    assert "WORKER TIMEOUT" not in web.log.read_text()


def test_a_worker_imports_every_view_before_its_first_request() -> None:
    # In a fresh process, as a new worker is: this one has imported the views long ago.
    script = (
        "import sys, django; django.setup()\n"
        "from firecrawl_dash import gunicorn\n"
        "assert 'jobs.views.downloads' not in sys.modules\n"
        "gunicorn.post_worker_init(None)\n"
        "print(sorted(m for m in ('jobs.views.downloads', 'api.urls') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[0] == "['api.urls', 'jobs.views.downloads']"
