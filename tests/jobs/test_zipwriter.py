"""The zip is the same archive whatever the number of threads deflating it: two beside the
caller (the default, kept however busy the machine: docs/PERFORMANCE.md), or none."""

import io
import zipfile

import pytest

from jobs import zipwriter
from jobs.zipwriter import ZipStream


def _archive(threads: int | None, files: list[tuple[str, bytes]], streamed: bytes) -> bytes:
    archive = ZipStream(threads=threads)
    pieces = [streamed[n : n + 70_000] for n in range(0, len(streamed), 70_000)]
    # Files with the chunks of one more file beside them (the zip's documents and their
    # documents.jsonl), in batches of uneven sizes, one of them without a chunk.
    batches = [
        (files[:1], b"".join(pieces[:1])),
        (files[1:2], b""),
        (files[2:3], b"".join(pieces[1:])),
    ]
    chunks = [*archive.add_files_beside("documents.jsonl", batches)]
    chunks += archive.add_files([files[3:4], files[4:]])
    chunks += archive.stream("errors.json", pieces)
    chunks += archive.close()
    return b"".join(chunks)


@pytest.mark.parametrize("threads", [None, 0, 1, 2])
def test_a_zip_holds_the_same_files_whatever_the_threads(threads: int | None) -> None:
    files = [(f"markdown/{n}.md", (f"document {n} " * (n * 5000 + 1)).encode()) for n in range(6)]
    streamed = b"".join(b'{"n": %d, "text": "%s"}\n' % (n, b"w%d " % n * 300) for n in range(3000))
    with zipfile.ZipFile(io.BytesIO(_archive(threads, files, streamed))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            *(name for name, _ in files[:3]),
            "documents.jsonl",
            *(name for name, _ in files[3:]),
            "errors.json",
        ]
        assert [(name, archive.read(name)) for name, _ in files] == files
        assert archive.read("documents.jsonl") == archive.read("errors.json") == streamed


def test_the_zip_deflates_in_two_threads_by_default() -> None:
    assert ZipStream().threads == zipwriter.THREADS == 2
