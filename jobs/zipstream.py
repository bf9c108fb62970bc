"""A zip written as a stream, its deflating done in a second thread.

zlib releases the GIL while it deflates, so a thread compresses one batch of entries while the
caller reads and prepares the next: on two cores the zip costs about the larger of the two
instead of their sum (docs/PERFORMANCE.md). The format is what Info-ZIP and every unzip read:
small entries carry their sizes in their local header; a streamed entry (documents.jsonl, of
any size) is followed by a data descriptor; ZIP64 records appear only where a size or an offset
needs them. Memory is bounded by the batches in flight, never by the archive.
"""

import struct
import time
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

# Deflate level 1: nearly the ratio of level 6 on HTML and markdown, at ~1.6x the speed.
COMPRESS_LEVEL = 1
# Batches being compressed while the caller prepares more: bounds memory (two batches).
IN_FLIGHT = 2
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


def _deflate(data: bytes) -> tuple[int, bytes]:
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return zlib.crc32(data), compressor.compress(data) + compressor.flush()


class ZipStream:
    """Entries in, zip bytes out: `add_files` and `stream` return chunks to send as they come."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._offset = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zip-deflate")
        now = time.localtime()
        self._time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
        self._date = ((now.tm_year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday

    # Whole files ---------------------------------------------------------------------------

    def add_files(self, batches: Iterable[list[tuple[str, bytes]]]) -> Iterator[bytes]:
        """Each batch's files, deflated in the thread while the next batch is made."""
        pending: deque[tuple[list[str], Future[list[tuple[int, bytes, int]]]]] = deque()
        for batch in batches:
            names = [name for name, _ in batch]
            datas = [data for _, data in batch]
            pending.append((names, self._pool.submit(self._deflate_all, datas)))
            while len(pending) >= IN_FLIGHT:
                yield self._write_files(*pending.popleft())
        while pending:
            yield self._write_files(*pending.popleft())

    @staticmethod
    def _deflate_all(datas: list[bytes]) -> list[tuple[int, bytes, int]]:
        return [(*_deflate(data), len(data)) for data in datas]

    def _write_files(
        self, names: list[str], future: "Future[list[tuple[int, bytes, int]]]"
    ) -> bytes:
        out = bytearray()
        for name, (crc, compressed, size) in zip(names, future.result(), strict=True):
            entry = _Entry(name.encode(), crc, size, len(compressed), self._offset)
            header = self._local_header(entry)
            out += header
            out += compressed
            self._offset += len(header) + len(compressed)
            self._entries.append(entry)
        return bytes(out)

    # One streamed file ---------------------------------------------------------------------

    def stream(self, name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """One file of unknown size from `chunks`, deflated in the thread chunk by chunk."""
        entry = _Entry(name.encode(), 0, 0, 0, self._offset, descriptor=True)
        header = self._local_header(entry)
        self._offset += len(header)
        yield header
        compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
        pending: deque[Future[bytes]] = deque()

        def deflate(data: bytes) -> bytes:
            # Chunks of one stream are deflated in order: the pool has one thread.
            entry.crc = zlib.crc32(data, entry.crc)
            entry.size += len(data)
            return compressor.compress(data)

        for chunk in chunks:
            pending.append(self._pool.submit(deflate, chunk))
            while len(pending) >= IN_FLIGHT:
                yield self._streamed(entry, pending.popleft().result())
        while pending:
            yield self._streamed(entry, pending.popleft().result())
        tail = self._streamed(entry, compressor.flush())
        # The data descriptor, with 8-byte sizes since the local header announced ZIP64.
        descriptor = struct.pack("<LLQQ", 0x08074B50, entry.crc, entry.compressed, entry.size)
        self._offset += len(descriptor)
        self._entries.append(entry)
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

    def close(self) -> bytes:
        """The central directory: after it the archive is complete."""
        self._pool.shutdown(wait=True)
        start = self._offset
        out = bytearray()
        for entry in self._entries:
            big = [
                value
                for value in (entry.size, entry.compressed, entry.offset)
                if value >= _ZIP64_LIMIT
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
            out += struct.pack(
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
            out += entry.name + extra
        size = len(out)
        count = len(self._entries)
        if count >= 0xFFFF or size >= _ZIP64_LIMIT or start >= _ZIP64_LIMIT:
            end64 = start + size
            out += struct.pack(
                "<LQHHLLQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, start
            )
            out += struct.pack("<LLQL", 0x07064B50, 0, end64, 1)
            count16, size32, start32 = 0xFFFF, _SENTINEL, _SENTINEL
        else:
            count16, size32, start32 = count, size, start
        out += struct.pack("<LHHHHLLH", 0x06054B50, 0, 0, count16, count16, size32, start32, 0)
        return bytes(out)

    def abandon(self) -> None:
        """Stop the thread without writing the end (the generator was closed early)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
