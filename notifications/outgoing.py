"""Calling a URL a user typed (the notification webhook) without letting them aim the server at
its own network: http(s) only, the name resolved once and every address checked (no private,
loopback, link-local or otherwise non-public one unless allowed), then a connection to exactly
the address checked (never a second lookup, which DNS rebinding could answer differently), no
redirects, one whole-call deadline and a bounded read of the answer.

Django-free: the caller passes what the settings say.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

# The most of a receiver's answer read (only its first words are ever shown).
MAX_RESPONSE_BYTES = 64 * 1024


class OutgoingError(Exception):
    """The call did not succeed; `retry` says whether trying again later can help."""

    retry = True


class Refused(OutgoingError):
    """The URL may not be called at all (a scheme or address the rules refuse)."""

    retry = False


class Unreachable(OutgoingError):
    """No answer: the name did not resolve, the connection failed or the deadline passed."""


class TimedOut(Unreachable):
    """The deadline passed before the answer was read."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as typed (IDNA), for the Host header and the TLS certificate
    port: int
    path: str  # path and query
    address: str  # the checked IP address, the only one connected to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def is_public(address: str) -> bool:
    """A globally routable unicast address (an IPv4 address mapped into IPv6 counts as itself)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or Refused saying what is wrong."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"Not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("Only http:// and https:// URLs can be called")
    if not parts.hostname:
        raise Refused("The URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise Refused("Put no user name or password in the URL (sign with the secret instead)")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused(f"{parts.hostname} is not a valid host name") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The host's addresses (an address is its own), looked up once, within `timeout`."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found: list[list[str]] = []
    failed: list[OSError] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.append(list(dict.fromkeys(str(info[4][0]) for info in infos)))
        except OSError as exc:
            failed.append(exc)
        finally:
            done.set()

    # getaddrinfo has no timeout of its own: a thread keeps the caller's deadline.
    threading.Thread(target=look_up, name="resolve", daemon=True).start()
    if not done.wait(timeout):
        raise TimedOut(f"{host} did not resolve within {timeout:.3g} s")
    if failed or not found or not found[0]:
        raise Unreachable(f"{host} does not resolve")
    return found[0]


def check(url: str, *, allow_private: bool, timeout: float) -> Target:
    """Where a call to `url` would go, once every address of its host passed the rules."""
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port, timeout)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise Refused(
                    f"{shown} is a private, loopback or link-local address: this server does "
                    "not call those"
                )
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address, with the host's name for SNI and the certificate."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.address, target.port, timeout=timeout, context=context)
        self._server_hostname = target.host

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)  # type: ignore[attr-defined]


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities (tests trust their own)."""
    return ssl.create_default_context()


@contextmanager
def deadline(seconds: float, abort: Callable[[], None]) -> Iterator[threading.Event]:
    """Run the block, calling `abort` (which must unblock it) if it is still running after
    `seconds`; the event yielded is set when that happened."""
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        abort()

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def shut(sock: socket.socket | None) -> None:
    """Unblock whatever waits on the socket (a deadline's abort)."""
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: bytes  # at most MAX_RESPONSE_BYTES

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to the checked target; the whole call (connecting, sending, reading the
    answer) ends within `timeout`. Redirects are answers like any other (not followed)."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout, tls_context())
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    sent_headers = {
        **headers,
        "Host": target.host_header,
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    try:
        with deadline(timeout, lambda: shut(connection.sock)) as fired:
            try:
                connection.request("POST", target.path, body=body, headers=sent_headers)
                response = connection.getresponse()
                data = response.read(MAX_RESPONSE_BYTES)
            except (OSError, http.client.HTTPException) as exc:
                # Whichever came first: the watchdog, or a socket's own timeout (set to the
                # whole deadline, so it too means the deadline has passed).
                if fired.is_set() or isinstance(exc, TimeoutError):
                    raise TimedOut(f"No answer within {timeout:.3g} s") from None
                raise Unreachable(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        connection.close()
    return Answer(response.status, response.reason, data)


def call(
    url: str, body: bytes, headers: dict[str, str], *, allow_private: bool, timeout: float
) -> Answer:
    """`check` then `post`: one deadline for the lookup and the call together."""
    started = time.monotonic()
    target = check(url, allow_private=allow_private, timeout=timeout)
    try:
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            raise TimedOut
        return post(target, body, headers, left)
    except TimedOut:
        raise TimedOut(f"No answer within {timeout:.3g} s") from None
