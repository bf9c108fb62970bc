"""`make run` (manage.py devserver): the web server and the worker, both ended by one Ctrl-C,
with no traceback and no make error."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.waiting import answers, wait_for_line, wait_until

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def processes_using(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (this test's database URL)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_one_ctrl_c_stops_make_run_quietly(tmp_path: Path) -> None:
    port = free_port()
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    output = tmp_path / "make.out"
    with output.open("wb") as out:
        # -o: the virtualenv is there already (this test runs in it); never install from here.
        make = subprocess.Popen(
            ["make", "-o", ".venv/.installed-run", "run", f"PORT={port}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "DATABASE_URL": database},
        )
    try:
        login = f"http://127.0.0.1:{port}/accounts/login/"
        wait_until(lambda: answers(login), "make run answered", process=make)
        # Logged by the worker once its signal handlers are installed.
        wait_for_line(output, "Starting worker", make)
        assert len(processes_using(database)) >= 3, "make, the web server and the worker"
    finally:
        # Ctrl-C, as a terminal sends it: to the whole foreground process group.
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            raise
    text = output.read_text()
    assert make.returncode in (0, -signal.SIGINT), text
    assert "Traceback" not in text and "make: ***" not in text, text
    # The worker stopped on the one signal it was sent, after the step in hand.
    assert "stopping after the current step" in text
    assert "terminating current task" not in text
    wait_until(lambda: not processes_using(database), "every process of make run ended")
