"""Screenshots in the Firecrawl simulator: real PNG bytes, on a storage host of its own or inline.

A document asked for with the `screenshot` (or `screenshot@fullPage`) format carries `screenshot`,
and one asked for with `actions` that take screenshots carries `actions.screenshots`; the page's
own screenshot is the last one taken (fire-engine appends it to the actions, the API takes it back
off: engines/fire-engine/index.ts). On the hosted service these are signed Google Cloud Storage
URLs (`https://storage.googleapis.com/<bucket>/<file>?X-Goog-...`) that stop working when they
expire; here they name the simulator's storage listener, which serves the PNG until the job
expires and then answers as GCS does for an expired signed URL (400 `ExpiredToken`, XML). A
server without cloud storage hands the engine's image on inline as `data:image/png;base64,...`
(the API uploaded `data:` screenshots only with its database: uploadScreenshot.ts, removed in
June 2026, so since then a `data:` URI from the engine always passes through).

Images are noise of a fixed width, `size` bytes exactly (a text chunk pads them), the same bytes
for the same (seed, job, document, shot), generated on each read and never held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from fakecrawl.faults import Response

BUCKET = "firecrawl-scrape-media"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH = 256  # pixels, RGB: 768 bytes a row plus its filter byte
ROW = WIDTH * 3 + 1
TEXT_KEYWORD = b"Comment\0"
STORED_BLOCK = 65535  # the largest stored (uncompressed) deflate block
SIGNED_FOR_SECONDS = 7 * 24 * 3600  # what a V4 signed URL may last at most
XML = "application/xml; charset=UTF-8"
XML_HEAD = "<?xml version='1.0' encoding='UTF-8'?>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _idat_payload_size(height: int) -> int:
    raw = height * ROW
    return 2 + raw + 5 * math.ceil(raw / STORED_BLOCK) + 4  # zlib header, blocks, Adler-32


def _size_without_padding(height: int) -> int:
    blocks = math.ceil(height * ROW / STORED_BLOCK)
    # signature, IHDR (25), one IDAT chunk per stored block (12 bytes each, the zlib header in
    # the first, the Adler-32 in an IDAT of its own), IEND (12)
    return len(PNG_SIGNATURE) + 25 + _idat_payload_size(height) + 12 * (blocks + 1) + 12


def png_layout(size: int) -> tuple[int, int]:
    """(height, padding bytes of the text chunk) of an image of `size` bytes, or as close above
    it as an image of one row allows."""
    text = 12 + len(TEXT_KEYWORD)  # the smallest text chunk
    height = max(1, (size - 200) // (ROW + 1))
    while height > 1 and _size_without_padding(height) + text > size:
        height -= 1
    while _size_without_padding(height + 1) + text <= size:
        height += 1
    rest = size - _size_without_padding(height)
    return height, (rest - 12 if rest >= text else -1)


def png_stream(key: str, size: int) -> tuple[int, Iterator[bytes]]:
    """A valid PNG of about `size` bytes (exactly, above a few hundred), as its length and the
    pieces to send, generated as they are read."""
    height, padding = png_layout(size)
    length = _size_without_padding(height) + (12 + padding if padding >= 0 else 0)

    def pieces() -> Iterator[bytes]:
        rng = random.Random(key)
        yield PNG_SIGNATURE
        yield _chunk(b"IHDR", struct.pack(">IIBBBBB", WIDTH, height, 8, 2, 0, 0, 0))
        if padding >= 0:
            room = padding - len(TEXT_KEYWORD)
            comment = f"fakecrawl {key}".encode()[:room]
            yield _chunk(b"tEXt", TEXT_KEYWORD + comment + b" " * (room - len(comment)))
        raw_left = height * ROW
        adler = 1
        pending = b"\x78\x01"  # zlib header: deflate, no dictionary, fastest
        carry = b""
        while raw_left:
            take = min(STORED_BLOCK, raw_left)
            rows = []
            have = len(carry)
            while have < take:
                rows.append(b"\0" + rng.randbytes(ROW - 1))
                have += ROW
            data = carry + b"".join(rows)
            block, carry = data[:take], data[take:]
            raw_left -= take
            adler = zlib.adler32(block, adler)
            final = 1 if raw_left == 0 else 0
            header = struct.pack("<BHH", final, take, take ^ 0xFFFF)
            yield _chunk(b"IDAT", pending + header + block)
            pending = b""
        yield _chunk(b"IDAT", struct.pack(">I", adler))
        yield _chunk(b"IEND", b"")

    return length, pieces()


def png_bytes(key: str, size: int) -> bytes:
    return b"".join(png_stream(key, size)[1])


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


@dataclass(frozen=True)
class StoredShot:
    """What a storage path names: one screenshot of one document of one job."""

    job_id: str
    index: int  # the document's input index
    shot: int  # which screenshot of that document (the actions' first, then the page's)


class Storage:
    """The simulator's screenshot storage: signed URLs it hands out and can read back."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size  # bytes of each image
        self.base_url = ""  # http://host:port of the storage listener, once it serves
        self._secret = hashlib.sha256(f"fakecrawl-storage:{seed}".encode()).digest()

    def image_key(self, shot: StoredShot) -> str:
        return f"{self.seed}:{shot.job_id}:{shot.index}:{shot.shot}"

    def image(self, shot: StoredShot) -> bytes:
        return png_bytes(self.image_key(shot), self.size)

    def url(self, shot: StoredShot, signed_at_wall: float) -> str:
        path = f"/{BUCKET}/{shot.job_id}/{shot.index}-{shot.shot}.png"
        date = datetime.fromtimestamp(signed_at_wall, UTC).strftime("%Y%m%dT%H%M%SZ")
        credential = quote(f"fakecrawl@firecrawl.iam.gserviceaccount.com/{date[:8]}", safe="")
        query = (
            f"X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential={credential}"
            f"%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date={date}"
            f"&X-Goog-Expires={SIGNED_FOR_SECONDS}&X-Goog-SignedHeaders=host"
        )
        return f"{self.base_url}{path}?{query}&X-Goog-Signature={self._sign(path)}"

    def read(self, path: str, signature: str | None) -> StoredShot | Response:
        """The screenshot a storage path names, or GCS's answer when it names none."""
        parts = path.split("/")
        if len(parts) != 4 or parts[1] != BUCKET or not parts[3].endswith(".png"):
            return no_such_key(path)
        if signature is None or not hmac.compare_digest(signature, self._sign(path)):
            return signature_mismatch()
        index, _, shot = parts[3].removesuffix(".png").partition("-")
        try:
            return StoredShot(parts[2], int(index), int(shot))
        except ValueError:
            return no_such_key(path)

    def _sign(self, path: str) -> str:
        return hmac.new(self._secret, path.encode(), hashlib.sha256).hexdigest()


def _xml_error(status: int, code: str, message: str, details: str) -> Response:
    body = (
        f"{XML_HEAD}<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Details>{details}</Details></Error>"
    )
    return Response(status, body.encode(), XML)


def no_such_key(path: str) -> Response:
    return _xml_error(
        404, "NoSuchKey", "The specified key does not exist.", f"No such object: {path[1:]}"
    )


def expired_token(expired_at_wall: float) -> Response:
    """What GCS answers for a V4 signed URL past its expiry."""
    moment = datetime.fromtimestamp(expired_at_wall, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return _xml_error(
        400,
        "ExpiredToken",
        "The provided token has expired.",
        f"Request signature expired at: {moment}",
    )


def signature_mismatch() -> Response:
    return _xml_error(
        403,
        "SignatureDoesNotMatch",
        "Access denied.",
        "The request signature we calculated does not match the signature you provided. Check "
        "your Google secret key and signing method.",
    )


NOT_AN_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Sign in to continue"
    b"</h1><form action=/login method=post><input name=user></form></body></html>\n"
)
