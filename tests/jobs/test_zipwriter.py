"""How many threads the zip deflates in, decided from the machine's load: two while a core is
free, none (the caller alone) when the cores are busy, and the same archive either way."""

import io
import threading
import zipfile

import pytest

from jobs import zipwriter
from jobs.zipwriter import ZipStream, deflate_threads


def test_the_zip_deflates_in_threads_only_while_a_core_is_free() -> None:
    assert deflate_threads(load=0.3, cores=2) == zipwriter.THREADS
    assert deflate_threads(load=1.0, cores=2) == zipwriter.THREADS
    assert deflate_threads(load=1.2, cores=2) == 0
    assert deflate_threads(load=9.0, cores=2) == 0
    assert deflate_threads(load=5.0, cores=8) == zipwriter.THREADS


def test_a_zip_started_on_a_busy_machine_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwriter.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(zipwriter.os, "cpu_count", lambda: 2)
    archive = ZipStream()
    assert archive.threads == 0
    written = b"".join([*archive.add_files([[("a.md", b"hello " * 1000)]]), *archive.close()])
    assert not [t for t in threading.enumerate() if t.name.startswith("zip-deflate")]
    assert zipfile.ZipFile(io.BytesIO(written)).read("a.md") == b"hello " * 1000


def _archive(threads: int, files: list[tuple[str, bytes]], streamed: bytes) -> bytes:
    archive = ZipStream(threads=threads)
    chunks = [*archive.add_files([files[:3], files[3:]])]
    chunks += archive.stream(
        "documents.jsonl", [streamed[n : n + 70_000] for n in range(0, len(streamed), 70_000)]
    )
    chunks += archive.close()
    return b"".join(chunks)


@pytest.mark.parametrize("threads", [0, 1, 2])
def test_a_zip_holds_the_same_files_whatever_the_threads(threads: int) -> None:
    files = [(f"markdown/{n}.md", (f"document {n} " * (n * 5000 + 1)).encode()) for n in range(6)]
    streamed = b"".join(b'{"n": %d, "text": "%s"}\n' % (n, b"w%d " % n * 300) for n in range(3000))
    with zipfile.ZipFile(io.BytesIO(_archive(threads, files, streamed))) as archive:
        assert archive.testzip() is None
        assert [(name, archive.read(name)) for name, _ in files] == files
        assert archive.read("documents.jsonl") == streamed
