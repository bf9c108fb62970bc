"""The locks agree with what requirements*.in ask for, read offline (no index is asked).

`make lock` writes requirements.txt and requirements-dev.txt; a .in file edited without it would
leave `make run` and `make test` installing the old set without a word. These tests catch that.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def asked_for(in_file: str) -> dict[str, str]:
    """Name -> version of each requirement in a .in file; every one must be pinned with ==."""
    pins = {}
    for line in (ROOT / in_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{in_file}: {line!r} is not pinned with =="
        pins[canonical(match[1])] = match[2]
    return pins


def locked(lock_file: str) -> dict[str, tuple[str, int, set[str]]]:
    """Name -> (version, number of hashes, what it is there for) of each package in a lock."""
    entries: dict[str, tuple[str, int, set[str]]] = {}
    name = ""
    for line in (ROOT / lock_file).read_text().splitlines():
        match = PIN.match(line)
        if match:
            name = canonical(match[1])
            entries[name] = (match[2], 0, set())
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes, via = entries[name]
            entries[name] = (version, hashes + 1, via)
        elif name and line.startswith("    #"):
            reason = line.strip("# ").removeprefix("via").strip()
            if reason:
                entries[name][2].add(reason)
    return entries


LOCKS = [("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")]


@pytest.mark.parametrize(("in_file", "lock_file"), LOCKS)
def test_each_lock_pins_exactly_what_its_in_file_asks_for(in_file: str, lock_file: str) -> None:
    asked = asked_for(in_file)
    lock = locked(lock_file)
    stale = f"{lock_file} is older than {in_file}: run make lock"
    assert {name: lock[name][0] for name in asked if name in lock} == asked, stale
    direct = {name for name, (_, _, via) in lock.items() if f"-r {in_file}" in via}
    assert direct == set(asked), stale


@pytest.mark.parametrize("lock_file", [lock for _, lock in LOCKS])
def test_every_locked_package_carries_a_hash(lock_file: str) -> None:
    lock = locked(lock_file)
    assert lock, f"{lock_file} lists no package"
    assert [name for name, (_, hashes, _) in lock.items() if not hashes] == []


def test_packages_in_both_locks_have_one_version() -> None:
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert "-c requirements.txt" in (ROOT / "requirements-dev.in").read_text()
    differ = {name: (runtime[name][0], dev[name][0]) for name in runtime.keys() & dev.keys()}
    assert {name: pair for name, pair in differ.items() if pair[0] != pair[1]} == {}
