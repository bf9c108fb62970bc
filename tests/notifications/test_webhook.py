"""The outgoing notification webhook, against a real HTTP(S) receiver: signed JSON with the jobs
and a text summary, once per event, retried then given up on; and the rules for the address
(notifications/outgoing.py): http(s) only, no private destination unless allowed, the address
checked is the one connected to, a deadline and a bounded read."""

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client

from keys.models import ApiKey
from notifications import models, outgoing, signatures
from notifications.models import Message
from notifications.tasks import enqueue_due_notifications
from tests.notifications.conftest import Receiver, free_port, settled_job, subscribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def rounds(n: int = 1) -> None:
    for _ in range(n):
        enqueue_due_notifications()


@pytest.fixture
def private_allowed(settings: Any) -> None:
    # The receiver listens on loopback, as a receiver on the dashboard's own network would.
    settings.NOTIFY_WEBHOOK_ALLOW_PRIVATE = True


@pytest.mark.usefixtures("private_allowed")
def test_the_webhook_gets_signed_json_with_the_job_and_a_text_summary(
    alice: Any, key: ApiKey, receiver: Receiver
) -> None:
    prefs = subscribe(alice, email="", webhook_url=receiver.url)
    job = settled_job(key, label="Docs site", failed_count=1)
    rounds(4)
    assert receiver.count() == 1
    call = receiver.received[0]
    assert call.path == "/hook"
    assert signatures.verify(prefs.webhook_secret, call.body, call.headers["X-Dashboard-Signature"])
    assert call.headers["X-Dashboard-Signature"].startswith("sha256=")
    assert call.headers["Content-Type"] == "application/json"
    payload = call.json()
    message = Message.objects.get()
    assert payload["event"] == "job.finished" == call.headers["X-Dashboard-Event"]
    assert payload["id"] == str(message.uid) == call.headers["X-Dashboard-Delivery"]
    assert payload["count"] == 1
    [fields] = payload["jobs"]
    assert fields["id"] == job.pk and fields["firecrawl_id"] == str(job.remote_id)
    assert fields["label"] == "Docs site" and fields["status"] == "Completed"
    assert (fields["scraped"], fields["failed"], fields["credits_used"]) == (10, 1, 10)
    assert fields["complete"] is True
    assert fields["url"] == f"https://dash.example.test/jobs/{job.pk}/"
    assert fields["zip_url"] == f"https://dash.example.test/jobs/{job.pk}/download.zip"
    # Slack and Mattermost read `text`, Discord `content`: the same short summary.
    assert payload["text"] == payload["content"]
    assert payload["text"].startswith("Firecrawl dashboard: Job finished: Docs site (completed)")
    assert len(payload["content"]) <= 2000


def test_a_wrong_secret_does_not_verify() -> None:
    body = b'{"event":"job.finished"}'
    assert not signatures.verify("other", body, signatures.sign("secret", body))
    assert not signatures.verify("secret", body + b" ", signatures.sign("secret", body))


def test_a_private_address_is_refused_and_allowed_with_the_setting(
    alice: Any, key: ApiKey, receiver: Receiver, settings: Any
) -> None:
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key)
    rounds(3)
    message = Message.objects.get()
    # Refused before any connection, and not retried: retrying cannot make it allowed.
    assert receiver.attempts == 0
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)
    assert "private, loopback or link-local" in message.last_error
    settings.NOTIFY_WEBHOOK_ALLOW_PRIVATE = True
    Message.objects.update(created_at=message.created_at - datetime.timedelta(hours=1))
    settled_job(key)
    rounds()
    assert receiver.count() == 1


@pytest.mark.usefixtures("private_allowed")
def test_a_failing_receiver_is_retried_then_given_up_on_and_shown_on_the_page(
    alice: Any,
    key: ApiKey,
    receiver: Receiver,
    alice_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "MAX_ATTEMPTS", 3)
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key, label="Unlucky")
    receiver.statuses = [500]
    rounds(6)
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 3)
    assert receiver.attempts == 3 and receiver.count() == 0
    assert message.last_error.startswith("The webhook answered 500")
    page = alice_client.get("/notifications/").content.decode()
    assert "Gave up after 3 attempts" in page and "The webhook answered 500" in page


@pytest.mark.usefixtures("private_allowed")
def test_a_receiver_that_recovers_gets_the_message_once(
    alice: Any, key: ApiKey, receiver: Receiver
) -> None:
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key)
    receiver.statuses = [503, 502, 200]
    rounds(6)
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.SENT, 3)
    assert receiver.count() == 1
    # Every attempt carried the same id and body: a receiver can drop a copy it already has.
    assert receiver.received[0].json()["id"] == str(message.uid)


@pytest.mark.usefixtures("private_allowed")
def test_redirects_are_answers_not_followed(alice: Any, key: ApiKey, receiver: Receiver) -> None:
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key)
    receiver.statuses = [302]
    rounds()
    assert Message.objects.get().last_error.startswith("The webhook answered 302")
    assert receiver.attempts == 1


@pytest.mark.usefixtures("private_allowed")
def test_a_receiver_that_never_answers_is_cut_off_at_the_deadline(
    alice: Any, key: ApiKey, receiver: Receiver, settings: Any
) -> None:
    settings.NOTIFY_SEND_TIMEOUT = 1
    subscribe(alice, email="", webhook_url=receiver.url)
    settled_job(key)
    receiver.hold = True
    rounds()
    message = Message.objects.get()
    assert message.status == Message.Status.PENDING
    assert message.last_error == "No answer within 1 s"


# The address rules, one by one.


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
    ],
)
def test_private_loopback_and_link_local_destinations_are_refused(url: str) -> None:
    with pytest.raises(outgoing.Refused, match="private, loopback or link-local"):
        outgoing.check(url, allow_private=False, timeout=5)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.test/", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("https://user:pw@hooks.example.test/", "no user name or password"),
        ("https:///path", "no host name"),
        ("http://example.test:99999/", "Not a valid URL"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url: str, message: str) -> None:
    with pytest.raises(outgoing.Refused, match=message):
        outgoing.check(url, allow_private=True, timeout=5)


def test_a_public_address_is_allowed_without_any_lookup() -> None:
    target = outgoing.check("https://93.184.215.14:8443/in?x=1", allow_private=False, timeout=5)
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/in?x=1")
    assert target.host_header == "93.184.215.14:8443"


class FakeDns:
    """getaddrinfo that answers from a table, and counts the questions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, table: dict[str, list[list[str]]]):
        self.table = table
        self.asked: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host not in self.table:
                return real(host, port, *args, **kwargs)
            self.asked.append(host)
            answers = self.table[host]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeDns(monkeypatch, {"hooks.example.test": [["93.184.215.14", "10.1.2.3"]]})
    with pytest.raises(outgoing.Refused, match=r"hooks.example.test resolves to 10.1.2.3"):
        outgoing.check("https://hooks.example.test/", allow_private=False, timeout=5)


@pytest.mark.usefixtures("private_allowed")
def test_the_call_goes_to_the_address_that_was_checked_never_a_second_lookup(
    alice: Any, key: ApiKey, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server_address[1]
    # A rebinding name: the first answer is the receiver, any later one an address where
    # nothing listens. Connecting after a second lookup would fail.
    dns = FakeDns(monkeypatch, {"hooks.example.test": [["127.0.0.1"], ["127.0.0.2"]]})
    subscribe(alice, email="", webhook_url=f"http://hooks.example.test:{port}/in")
    dns.asked.clear()  # the form is not involved here; only the send's own lookups count
    settled_job(key)
    rounds()
    assert Message.objects.get().status == Message.Status.SENT
    assert dns.asked == ["hooks.example.test"]
    assert receiver.received[0].headers["Host"] == f"hooks.example.test:{port}"


@pytest.mark.usefixtures("private_allowed")
def test_a_receivers_answer_is_cleaned_and_cut_before_it_is_stored_and_shown(
    alice: Any, key: ApiKey, receiver: Receiver
) -> None:
    subscribe(alice, email="", webhook_url=receiver.url)
    receiver.statuses = [500]
    receiver.answer = "\u202eexe.txt \x1b[31mred\x07 ".encode() + b"y" * 1000
    settled_job(key)
    rounds()
    error = Message.objects.get().last_error
    assert error.startswith("The webhook answered 500 Internal Server Error: \ufffdexe.txt")
    assert not {"\u202e", "\x1b", "\x07"} & set(error)
    assert len(error) <= 500


def test_only_the_first_part_of_a_huge_answer_is_read() -> None:
    class Huge(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.send_header("Content-Length", str(8 * 2**20))
            self.end_headers()
            try:
                for _ in range(8 * 16):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass  # the caller stopped reading: what is expected

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Huge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = outgoing.check(
            f"http://127.0.0.1:{server.server_address[1]}/", allow_private=True, timeout=5
        )
        answer = outgoing.post(target, b"{}", {}, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 500
    assert len(answer.body) == outgoing.MAX_RESPONSE_BYTES


# HTTPS: the certificate is checked against the name, on the pinned address.


def make_certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    cert, key = make_certificate(tmp_path, "hooks.example.test")
    server = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    # The sender trusts this certificate (as it would a real authority's).
    monkeypatch.setattr(outgoing, "tls_context", lambda: ssl.create_default_context(cafile=cert))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_of_the_name_on_the_checked_address(
    tls_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = tls_receiver.server_address[1]
    FakeDns(
        monkeypatch,
        {"hooks.example.test": [["127.0.0.1"]], "other.example.test": [["127.0.0.1"]]},
    )
    target = outgoing.check(f"https://hooks.example.test:{port}/in", allow_private=True, timeout=5)
    answer = outgoing.post(target, json.dumps({"a": 1}).encode(), {}, timeout=5)
    assert answer.ok and tls_receiver.count() == 1
    # The same server under another name: its certificate does not match, nothing is sent.
    other = outgoing.check(f"https://other.example.test:{port}/in", allow_private=True, timeout=5)
    with pytest.raises(outgoing.Unreachable, match="certificate"):
        outgoing.post(other, b"{}", {}, timeout=5)
    assert tls_receiver.count() == 1


def test_addresses_are_compared_as_addresses() -> None:
    assert outgoing.is_public("93.184.215.14")
    assert not outgoing.is_public(str(ipaddress.IPv6Address("::ffff:10.0.0.1")))
