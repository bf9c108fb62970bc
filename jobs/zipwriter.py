"""A zip written as a stream, its deflating done in other threads.

zlib releases the GIL while it deflates, so two threads compress one batch of entries while the
caller reads and prepares the next: the zip costs about the larger of the two instead of their
sum (docs/PERFORMANCE.md). They stay two when the machine is busy: measured with every core
taken by other processes, two threads still deflate faster than the caller alone (the scheduler
shares the cores by thread, we infer), so the count does not follow the load. A streamed entry
is cut into pieces deflated independently, each primed with the 32 KB before it (as pigz does),
so it deflates in parallel too, at the same size. A file can also be written beside others
(`add_files_beside`): the zip's documents.jsonl and its markdown and HTML files come from one
reading of the documents, the jsonl's pieces deflated with the files and held, compressed, in a
temporary file (on disk past 4 MB) until it is entered after them (reading the documents once
instead of twice saves the view's thread, the zip's limit, a sixth of its work:
docs/PERFORMANCE.md). The format is what Info-ZIP and every unzip read: whole files and a file
written beside others carry their sizes in their local header; a streamed entry (the manifest,
of any size) is followed by a data descriptor; ZIP64 records appear only where a size or an
offset needs them. Memory is bounded by the batches in flight, never by the archive; disk holds
the central directory and a file written beside others, compressed.
"""

import struct
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

# zlib-ng: the same deflate format, compressed faster and smaller than zlib's (measured in
# docs/PERFORMANCE.md); its functions release the GIL as zlib's do.
from zlib_ng import zlib_ng as zlib

# zlib-ng's level 2 deflates HTML and markdown faster than zlib's level 1 (what Info-ZIP's
# `zip -1`, the benchmark's reference, does), and smaller; its level 1 is a quicker strategy
# whose output is larger than zlib's.
COMPRESS_LEVEL = 2
# Batches being compressed while the caller prepares more: bounds memory (two batches).
IN_FLIGHT = 2
# Threads deflating: with the caller's, one per core of a two-core machine and one more, so a
# core never idles while a thread waits for the GIL.
THREADS = 2
# Bytes of a streamed file handed to the threads at once, at least.
_MIN_PIECE = 1024 * 1024
# Compressed bytes of a file written beside others kept in memory, at most; the rest on disk.
_SPOOL_IN_MEMORY = 4 * 1024 * 1024
# What deflate may refer back to: a piece deflated on its own is primed with this much.
_WINDOW = 32 * 1024
# A final, empty deflate block: ends a stream made of sync-flushed pieces.
_FINAL_BLOCK = zlib.compressobj(1, zlib.DEFLATED, -15).flush()
_FLAG_DATA_DESCRIPTOR = 0x08
_FLAG_UTF8 = 0x800
# A size or offset from here on needs ZIP64 records (a test lowers it); the 32-bit field then
# holds the sentinel.
_ZIP64_LIMIT = 0xFFFFFFFF
_SENTINEL = 0xFFFFFFFF
_DEFLATED = 8


@dataclass
class _Entry:
    name: bytes
    crc: int
    size: int
    compressed: int
    offset: int
    descriptor: bool = False


class _Inline(Executor):
    """An executor whose tasks run in the caller as they are submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _deflate_piece(data: memoryview, primer: memoryview) -> bytes:
    """A piece of a stream: deflated on its own, primed with what precedes it, byte-aligned and
    not final, so pieces joined in order are one valid deflate stream."""
    if primer:
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15, zdict=primer)
    else:
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class ZipStream:
    """Entries in, zip bytes out: `add_files` and `stream` return chunks to send as they come."""

    def __init__(self, threads: int | None = None) -> None:
        """`threads`: how many deflate beside the caller (None: THREADS; 0: the caller alone,
        which the benchmark compares)."""
        self._directory = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        self._count = 0
        self._offset = 0
        self.threads = THREADS if threads is None else threads
        # Work is cut into one part per thread (one when the caller deflates alone).
        self._parts = max(1, self.threads)
        self._pool: Executor = (
            ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="zip-deflate")
            if self.threads
            else _Inline()
        )
        now = time.localtime()
        self._time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
        self._date = ((now.tm_year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday

    # Whole files ---------------------------------------------------------------------------

    def add_files(self, batches: Iterable[list[tuple[str, bytes]]]) -> Iterator[bytes]:
        """Each batch's files, deflated in the threads while the next batch is made."""
        pending: deque[tuple[list[tuple[str, bytes]], list[Future[list[bytes]]]]] = deque()
        for batch in batches:
            pending.append((batch, self._submit_files(batch)))
            while len(pending) >= IN_FLIGHT:
                yield self._write_files(*pending.popleft())
        while pending:
            yield self._write_files(*pending.popleft())

    def add_files_beside(
        self, name: str, batches: Iterable[tuple[list[tuple[str, bytes]], bytes]]
    ) -> Iterator[bytes]:
        """Each batch is (files, chunk): its files written as `add_files` writes them, its chunk
        the next part of one more file, `name`, entered after them all. One reading of a source
        feeds both (the zip's documents.jsonl and its markdown and HTML files). The chunks are
        deflated in the threads beside the files, piece by piece as `stream` does, and kept
        compressed in a temporary file (on disk past a few megabytes) until the files are
        written, so memory stays bounded by the batches in flight."""
        entry = _Entry(name.encode(), 0, 0, 0, 0)
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        pending: deque[
            tuple[list[tuple[str, bytes]], list[Future[list[bytes]]], list[Future[bytes]]]
        ] = deque()
        primer = memoryview(b"")
        try:
            for files, chunk in batches:
                entry.crc = zlib.crc32(chunk, entry.crc)
                entry.size += len(chunk)
                pieces, primer = self._submit_pieces(chunk, primer)
                pending.append((files, self._submit_files(files), pieces))
                while len(pending) >= IN_FLIGHT:
                    yield self._write_beside(spool, *pending.popleft())
            while pending:
                yield self._write_beside(spool, *pending.popleft())
            spool.write(_FINAL_BLOCK)
            entry.compressed = spool.tell()
            entry.offset = self._offset
            header = self._local_header(entry)
            self._offset += len(header) + entry.compressed
            self._record(entry)
            yield header
            spool.seek(0)
            while data := spool.read(_MIN_PIECE):
                yield data
        finally:
            spool.close()

    def _write_beside(
        self,
        spool: IO[bytes],
        files: list[tuple[str, bytes]],
        futures: "list[Future[list[bytes]]]",
        pieces: "list[Future[bytes]]",
    ) -> bytes:
        for piece in pieces:
            spool.write(piece.result())
        return self._write_files(files, futures)

    def _submit_files(self, batch: list[tuple[str, bytes]]) -> "list[Future[list[bytes]]]":
        """The batch's files to deflate: one task per thread, of about equal bytes."""
        parts: list[list[bytes]] = []
        size, total = 0, sum(len(data) for _, data in batch)
        start = 0
        for index, (_, data) in enumerate(batch):
            size += len(data)
            if size * self._parts >= total * (len(parts) + 1) or index == len(batch) - 1:
                parts.append([data for _, data in batch[start : index + 1]])
                start = index + 1
        return [self._pool.submit(self._deflate_all, part) for part in parts]

    def _submit_pieces(
        self, chunk: bytes, primer: memoryview
    ) -> "tuple[list[Future[bytes]], memoryview]":
        """The chunk of a stream to deflate, one piece per thread (none shorter than a quarter
        of _MIN_PIECE), each primed with what precedes it; and the primer of the next chunk."""
        view = memoryview(chunk)
        step = max(-(-len(view) // self._parts), _MIN_PIECE // 4)
        futures = []
        for start in range(0, len(view), step):
            piece = view[start : start + step]
            futures.append(self._pool.submit(_deflate_piece, piece, primer))
            primer = piece[-_WINDOW:] if len(piece) >= _WINDOW else _tail(primer, piece)
        return futures, primer

    @staticmethod
    def _deflate_all(datas: list[bytes]) -> list[bytes]:
        return [zlib.compress(data, COMPRESS_LEVEL, -15) for data in datas]

    def _write_files(
        self, batch: list[tuple[str, bytes]], futures: "list[Future[list[bytes]]]"
    ) -> bytes:
        out = bytearray()
        compressed_files = [data for future in futures for data in future.result()]
        for (name, data), compressed in zip(batch, compressed_files, strict=True):
            entry = _Entry(
                name.encode(), zlib.crc32(data), len(data), len(compressed), self._offset
            )
            header = self._local_header(entry)
            out += header
            out += compressed
            self._offset += len(header) + len(compressed)
            self._record(entry)
        return bytes(out)

    # One streamed file ---------------------------------------------------------------------

    def stream(self, name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """One file of unknown size from `chunks`, deflated in the threads piece by piece."""
        entry = _Entry(name.encode(), 0, 0, 0, self._offset, descriptor=True)
        header = self._local_header(entry)
        self._offset += len(header)
        yield header
        pending: deque[list[Future[bytes]]] = deque()
        primer = memoryview(b"")
        for chunk in _coalesced(chunks):
            entry.crc = zlib.crc32(chunk, entry.crc)
            entry.size += len(chunk)
            futures, primer = self._submit_pieces(chunk, primer)
            pending.append(futures)
            while len(pending) >= IN_FLIGHT:
                yield self._streamed(entry, b"".join(f.result() for f in pending.popleft()))
        while pending:
            yield self._streamed(entry, b"".join(f.result() for f in pending.popleft()))
        tail = self._streamed(entry, _FINAL_BLOCK)
        # The data descriptor, with 8-byte sizes since the local header announced ZIP64.
        descriptor = struct.pack("<LLQQ", 0x08074B50, entry.crc, entry.compressed, entry.size)
        self._offset += len(descriptor)
        self._record(entry)
        yield tail + descriptor

    def _streamed(self, entry: _Entry, data: bytes) -> bytes:
        entry.compressed += len(data)
        self._offset += len(data)
        return data

    # Headers and the end -------------------------------------------------------------------

    def _local_header(self, entry: _Entry) -> bytes:
        flags = _FLAG_UTF8 | (_FLAG_DATA_DESCRIPTOR if entry.descriptor else 0)
        if entry.descriptor:
            # Sizes unknown yet: zeros here, a ZIP64 extra saying so, the real ones after.
            extra = struct.pack("<HHQQ", 1, 16, 0, 0)
            crc, compressed, size = 0, _SENTINEL, _SENTINEL
        elif entry.size >= _ZIP64_LIMIT or entry.compressed >= _ZIP64_LIMIT:
            extra = struct.pack("<HHQQ", 1, 16, entry.size, entry.compressed)
            crc, compressed, size = entry.crc, _SENTINEL, _SENTINEL
        else:
            extra, crc, compressed, size = b"", entry.crc, entry.compressed, entry.size
        version = 45 if extra else 20
        return (
            struct.pack(
                "<LHHHHHLLLHH",
                0x04034B50,
                version,
                flags,
                _DEFLATED,
                self._time,
                self._date,
                crc,
                compressed,
                size,
                len(entry.name),
                len(extra),
            )
            + entry.name
            + extra
        )

    def _record(self, entry: _Entry) -> None:
        """The entry's central directory record, kept on disk past a megabyte: the directory
        grows with the number of files, and the zip's memory must not."""
        big = [
            value for value in (entry.size, entry.compressed, entry.offset) if value >= _ZIP64_LIMIT
        ]
        zip64 = entry.descriptor or bool(big)
        if zip64:
            # Every field of the ZIP64 extra, in the order the spec lists them.
            fields = (entry.size, entry.compressed, entry.offset)
            extra = struct.pack("<HH", 1, 8 * len(fields)) + struct.pack("<QQQ", *fields)
            size = compressed = offset = _SENTINEL
        else:
            extra, size, compressed, offset = b"", entry.size, entry.compressed, entry.offset
        flags = _FLAG_UTF8 | (_FLAG_DATA_DESCRIPTOR if entry.descriptor else 0)
        version = 45 if zip64 else 20
        record = struct.pack(
            "<LHHHHHHLLLHHHHHLL",
            0x02014B50,
            (3 << 8) | version,  # made by: Unix, so the permissions below are read
            version,
            flags,
            _DEFLATED,
            self._time,
            self._date,
            entry.crc,
            compressed,
            size,
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            (0o100644 << 16),
            offset,
        )
        self._directory.write(record + entry.name + extra)
        self._count += 1

    def close(self) -> Iterator[bytes]:
        """The central directory and the end records: after them the archive is complete."""
        self._pool.shutdown(wait=True)
        start = self._offset
        size = self._directory.tell()
        self._directory.seek(0)
        while chunk := self._directory.read(1024 * 1024):
            yield chunk
        self._directory.close()
        count = self._count
        if count >= 0xFFFF or size >= _ZIP64_LIMIT or start >= _ZIP64_LIMIT:
            end64 = start + size
            out = struct.pack(
                "<LQHHLLQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, start
            )
            out += struct.pack("<LLQL", 0x07064B50, 0, end64, 1)
            count16, size32, start32 = 0xFFFF, _SENTINEL, _SENTINEL
        else:
            out, count16, size32, start32 = b"", count, size, start
        yield out + struct.pack("<LHHHHLLH", 0x06054B50, 0, 0, count16, count16, size32, start32, 0)

    def abandon(self) -> None:
        """Stop the threads without writing the end (the generator was closed early)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._directory.close()


def _coalesced(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks joined into pieces of at least _MIN_PIECE bytes (the last may be smaller): a
    thread's round trip costs about what deflating 100 KB does, and a manifest comes a line at a
    time."""
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size >= _MIN_PIECE:
            yield b"".join(held)
            held, size = [], 0
    if size:
        yield b"".join(held)


def _tail(primer: memoryview, piece: memoryview) -> memoryview:
    """The last 32 KB of primer followed by piece (a piece shorter than the window)."""
    return memoryview((bytes(primer) + bytes(piece))[-_WINDOW:])
