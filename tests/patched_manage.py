"""`python -m tests.patched_manage COMMAND …`: manage.py for a test's child process, with
test-only patches named by environment variables. Production code has no hook for any of them.

TEST_KILL_AFTER_DOCUMENTS=N   the process SIGKILLs itself once it has written its N-th document
                              row, while the insert of that page is still going: rows up to the
                              N-th are written, the rest of the page is not (N=0: before any).
TEST_KILL_AFTER_DOCUMENTS=N+  the same document count, but the process lets the insert of the
                              page holding the N-th document finish, and dies as it sends its next
                              SQL statement (savepoint bookkeeping aside): a page written whole,
                              nothing after it.
TEST_BUDGET_CLOCK=ISO-TIME    keys.budget reads this instant as the time: one budget window for
                              the process's whole life, however long the test takes.

Before a kill it writes one line to stderr, `test kill: …`, saying where it landed: documents
written, how much of the page, and whether a transaction was open.
"""

import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

KILL_AFTER_DOCUMENTS = "TEST_KILL_AFTER_DOCUMENTS"
BUDGET_CLOCK = "TEST_BUDGET_CLOCK"


def kill_after_documents(spec: str) -> None:
    """Install the SIGKILL after the N-th document row (see the module's docstring)."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    from jobs.models import Document, fast_insert

    after = int(spec.rstrip("+"))
    at_next_statement = spec.endswith("+")
    written = 0
    armed_in: set[int] = set()  # the thread whose next statement dies (the one that inserted)

    def die(where: str) -> None:
        in_transaction = connection.in_atomic_block
        sys.stderr.write(
            f"test kill: {written} documents written, {where}, "
            f"in a transaction: {'yes' if in_transaction else 'no'}\n"
        )
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    def counting(insert: Callable[[Sequence[Any]], None]) -> Callable[[Sequence[Any]], None]:
        def patched(objs: Sequence[Any]) -> None:
            nonlocal written
            if not objs or not isinstance(objs[0], Document):
                insert(objs)
                return
            room = after - written
            if at_next_statement or room > len(objs):
                insert(objs)
                written += len(objs)
                if at_next_statement and written >= after:
                    armed_in.add(threading.get_ident())
                return
            if room:
                insert(objs[:room])
                written += room
            die(f"{room} of a page of {len(objs)}")

        return patched

    def statement_hook(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        bookkeeping = sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))
        if threading.get_ident() in armed_in and not bookkeeping:
            die(f"the page written whole, before: {sql.split()[0]} …")
        return execute(sql, params, many, context)

    def hook_each_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.execute_wrappers.append(statement_hook)

    # insert_new looks these up when it runs: every way a page is written goes through one.
    fast_insert._insert_or_ignore = counting(fast_insert._insert_or_ignore)  # type: ignore[assignment]
    fast_insert._copy = counting(fast_insert._copy)  # type: ignore[assignment]
    connection_created.connect(hook_each_connection, weak=False)


def freeze_budget_clock(iso_time: str) -> None:
    from keys import budget

    instant = datetime.fromisoformat(iso_time)
    budget.timezone = SimpleNamespace(now=lambda: instant)  # type: ignore[assignment]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firecrawl_dash.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    if spec := os.environ.get(KILL_AFTER_DOCUMENTS):
        kill_after_documents(spec)
    if iso_time := os.environ.get(BUDGET_CLOCK):
        freeze_budget_clock(iso_time)
    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
