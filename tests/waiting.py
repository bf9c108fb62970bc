"""Waiting for another thread or process: a condition checked until it holds, never a fixed sleep.

The timeouts are generous on purpose: a busy machine makes things slow, never wrong, so a test
waits as long as it takes for the signal (a row, a log line, a port) and fails only when the
signal never comes.
"""

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

# Long enough for a CI machine whose cores are all taken many times over; a working test never
# waits this long, a broken one fails after it.
TIMEOUT = 300.0


def wait_until(
    condition: Callable[[], object],
    what: str,
    timeout: float = TIMEOUT,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Return once `condition()` is true; fail saying `what` did not happen in `timeout` seconds,
    or at once if `process` (the one expected to make it happen) has exited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited first ({process.returncode})")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.02)


def wait_for_line(
    log: Path, text: str, process: subprocess.Popen[bytes] | None = None, timeout: float = TIMEOUT
) -> None:
    """Return once `text` appears in the log file a child process writes."""
    wait_until(
        lambda: log.exists() and text in log.read_text(errors="replace"),
        f"{text!r} in {log.name}",
        timeout,
        process,
    )


def answers(url: str) -> bool:
    """Whether a server answers `url` at all (any status): the signal that it is up."""
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True
