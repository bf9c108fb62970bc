"""Screenshots off Firecrawl's storage: one image fetched (or decoded), bounded, and checked.

A document's screenshots are URLs on the storage Firecrawl uploads them to (signed Google Cloud
Storage URLs on the hosted API, which stop working when they expire) or, from a self-hosted
server without cloud storage, the image itself as a `data:` URI. Either way an image is kept only
if its first bytes say PNG, JPEG or WebP (the Content-Type header and a data: URI's type are only
the sender's word), if it is no larger than a cap, and, fetched, if it came from an allowed host
within one deadline for the whole fetch (a host that trickles bytes never holds a worker longer).
Redirects are followed only on the same host. No Authorization header is ever sent: a storage
host is not Firecrawl, and the API key never goes there.
"""

from __future__ import annotations

import base64
import binascii
import http.client
from collections.abc import Collection
from dataclasses import dataclass
from typing import Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from firecrawl_api import transport
from firecrawl_api.client import USER_AGENT

# Same-host redirects followed at most (a storage host may move an object within itself).
MAX_REDIRECTS = 3
CONNECT_TIMEOUT = 10.0
_TRANSPORT_ERRORS = (
    requests.RequestException,
    http.client.HTTPException,
    urllib3.exceptions.HTTPError,
    OSError,
)


@dataclass(frozen=True)
class ImageType:
    content_type: str
    extension: str


PNG = ImageType("image/png", "png")
JPEG = ImageType("image/jpeg", "jpg")
WEBP = ImageType("image/webp", "webp")
TYPES_BY_CONTENT_TYPE = {kind.content_type: kind for kind in (PNG, JPEG, WEBP)}


def sniff(data: bytes) -> ImageType | None:
    """The image type its first bytes (its magic number) say, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


@dataclass(frozen=True)
class Image:
    data: bytes
    type: ImageType


class ImageRefused(Exception):
    """The image was not kept. `message` is a sentence to show; `retryable` says whether
    asking again later can help (a dropped connection) or cannot (not an image, too large)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        self.message = message
        self.retryable = retryable
        super().__init__(message)


def host_of(url: str) -> str:
    """The URL's host name, lowercase ("" when it has none or is no URL)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # "https://[::1" and the like
        return ""


def describe_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:g} MB"
    return f"{size:,} bytes"


def _checked(data: bytes) -> Image:
    kind = sniff(data)
    if kind is None:
        raise ImageRefused("Not a PNG, JPEG or WebP image (by its first bytes); not kept")
    return Image(data, kind)


def decode_data_uri(uri: str, max_bytes: int) -> Image:
    """The image a `data:...;base64,...` URI holds (base64 only: a percent-encoded one is not
    an image a screenshot engine sends)."""
    header, comma, payload = uri.partition(",")
    if not comma or not header[:5].lower() == "data:":
        raise ImageRefused("Not a data: URI")
    if not header.lower().endswith(";base64"):
        raise ImageRefused("Only base64 data: URIs are kept; this one is not base64")
    # Refused before decoding: four characters carry three bytes.
    if len(payload) > (max_bytes + 2) // 3 * 4:
        raise ImageRefused(f"Larger than {describe_size(max_bytes)}; not kept")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRefused("The data: URI is not valid base64") from None
    if len(data) > max_bytes:  # the estimate above allows two bytes more
        raise ImageRefused(f"Larger than {describe_size(max_bytes)}; not kept")
    return _checked(data)


class ImageFetcher:
    """Fetches screenshots: `max_bytes` per image, `deadline` seconds for the whole of one fetch
    (connecting, redirects and every byte), never with credentials. One per thread."""

    def __init__(self, *, max_bytes: int, deadline: float) -> None:
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._session = transport.new_session()
        # Never credentials from the environment (~/.netrc) either: nothing but the URL.
        self._session.trust_env = False
        self._headers = {
            "User-Agent": USER_AGENT,
            "Accept": "image/png, image/jpeg, image/webp",
            "Accept-Encoding": transport.ACCEPT_ENCODING,
        }

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def decode(self, uri: str) -> Image:
        """The image of a `data:` URI, within the same size cap."""
        return decode_data_uri(uri, self._max_bytes)

    def fetch(self, url: str, allowed_hosts: Collection[str]) -> Image:
        """The image at `url`, which must be on one of `allowed_hosts` (lowercase host names)."""
        deadline = transport.Deadline(self._deadline)
        host = _allowed_host(url, allowed_hosts)
        for _ in range(MAX_REDIRECTS + 1):
            location = self._get(url, deadline)
            if isinstance(location, Image):
                return location
            target = urljoin(url, location)
            if host_of(target) != host:
                raise ImageRefused(
                    f"The storage host redirected to another host ({host_of(target) or 'none'}); "
                    "not followed"
                )
            url = target
        raise ImageRefused(f"More than {MAX_REDIRECTS} redirects; not followed")

    def _get(self, url: str, deadline: transport.Deadline) -> Image | str:
        """The image, or where a redirect points."""
        left = deadline.left()
        if left <= 0:
            raise self._too_slow()
        try:
            with transport.bounded_by(deadline, left):
                response = self._session.get(
                    url,
                    headers=self._headers,
                    timeout=(min(CONNECT_TIMEOUT, left), left),
                    allow_redirects=False,
                    stream=True,
                )
                with response:
                    if response.is_redirect:
                        return str(response.headers.get("Location", ""))
                    _check_status(response.status_code)
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > self._max_bytes:
                        raise transport.TooLarge
                    data = transport.read_body(
                        response.raw, limit=self._max_bytes, deadline=deadline
                    )
        except transport.TooLarge:
            raise ImageRefused(f"Larger than {describe_size(self._max_bytes)}; not kept") from None
        except transport.DeadlinePassed:
            raise self._too_slow() from None
        except transport.UnaskedEncoding:
            raise ImageRefused("The storage host sent an encoding that was not asked for") from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
            if deadline.passed():
                raise self._too_slow() from None
            raise ImageRefused("The storage host did not answer in time", retryable=True) from None
        except ImageRefused:
            raise
        except _TRANSPORT_ERRORS as exc:
            if deadline.passed():
                raise self._too_slow() from None
            raise ImageRefused(
                f"Could not fetch it from the storage host ({type(exc).__name__})", retryable=True
            ) from None
        return _checked(data)

    def _too_slow(self) -> ImageRefused:
        return ImageRefused(
            f"The storage host did not finish sending it within {self._deadline:g} s",
            retryable=True,
        )


def _allowed_host(url: str, allowed_hosts: Collection[str]) -> str:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    host = host_of(url)
    if scheme not in ("http", "https") or not host:
        raise ImageRefused("Not an http(s) URL")
    if host not in allowed_hosts:
        raise ImageRefused(
            f"{host} is not the job's Firecrawl server nor a storage host Firecrawl uses "
            "(FIRECRAWL_SCREENSHOT_HOSTS); not fetched"
        )
    return host


def _check_status(status: int) -> None:
    if status == 200:
        return
    # A signed URL past its expiry (400), a missing object (404), a refused signature (403):
    # asking again brings the same answer. Overload and server errors may pass.
    retryable = status in (408, 425, 429) or status >= 500
    raise ImageRefused(f"The storage host answered {status}", retryable=retryable)
