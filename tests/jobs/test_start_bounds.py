"""The Start form checks size first: line count and bytes before any line is validated, uploads
refused from Content-Length and while streaming (never spooled to disk), and a list over the
server's limit gets the form back with a clear message, not a bare 400."""

import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.test import Client, RequestFactory

from firecrawl_dash.uploads import CappedUploadHandler
from jobs.forms import start as start_forms
from keys.models import ApiKey

# Django's default upload handlers for these tests: whatever they receive is what a request
# would have spooled to memory or disk.
RECEIVED: list[int] = []


class RecordingUploadHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        RECEIVED.append(len(raw_data))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@pytest.fixture(autouse=True)
def default_handlers_record(settings: Any) -> None:
    RECEIVED.clear()
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingUploadHandler"]


def text_of(response: Any) -> str:
    return response.content.decode()


def test_a_paste_of_a_million_lines_is_refused_before_any_line_is_validated(
    alice_client: Client, key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[str] = []
    real = start_forms.normalize_url

    def counting(text: str) -> str | None:
        validated.append(text)
        return real(text)

    monkeypatch.setattr(start_forms, "normalize_url", counting)
    paste = "!\n" * 1_300_000  # 2.6 MB, under Django's 2.5 MiB for form fields

    response = alice_client.post("/start/batch/", {"urls": paste, "formats": ["markdown"]})

    assert response.status_code == 200
    assert "That is 1,300,000 lines; this server starts at most 10,000 URLs at once." in text_of(
        response
    )
    assert validated == []


def test_a_paste_over_the_servers_limit_gets_the_form_back_with_a_message(
    alice_client: Client, key: ApiKey, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    paste = "https://example.com/page\n" * 4_000  # 100 KB

    response = alice_client.post("/start/batch/", {"urls": paste, "formats": ["markdown"]})

    assert response.status_code == 200
    page = text_of(response)
    assert "That list is larger than this server accepts in the box (50,000 bytes)." in page
    assert ">Start batch</button>" in page
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_an_upload_past_the_cap_is_refused_while_it_streams_and_never_spooled(
    alice_client: Client, key: ApiKey, settings: Any
) -> None:
    settings.FIRECRAWL_START_MAX_UPLOAD_BYTES = 100_000
    big = SimpleUploadedFile("urls.txt", b"https://example.com/page\n" * 20_000)  # 500 KB

    response = alice_client.post("/start/batch/", {"upload": big, "formats": ["markdown"]})

    assert "That file is larger than this server accepts (100,000 bytes)." in text_of(response)
    assert RECEIVED == []  # Django's own handlers (memory, then a temporary file) saw nothing


def test_the_capped_handler_keeps_at_most_its_cap_and_stops_the_request() -> None:
    request = RequestFactory().post("/")
    handler = CappedUploadHandler(request, max_bytes=10)
    handler.new_file("upload", "urls.txt", "text/plain", None)
    handler.receive_data_chunk(b"12345", 0)
    handler.receive_data_chunk(b"67890", 5)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", 10)
    assert handler.refused
    assert handler._buffer.getvalue() == b"1234567890"


def test_a_file_within_the_cap_is_read_from_memory(alice_client: Client, key: ApiKey) -> None:
    urls = SimpleUploadedFile("urls.txt", b"https://a.example.com/\nhttps://b.example.com/\n")

    response = alice_client.post("/start/batch/", {"upload": urls, "formats": ["markdown"]})

    assert "2 URLs" in text_of(response)
    assert RECEIVED == []


def test_the_csrf_token_is_still_required(alice: User, key: ApiKey) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/start/batch/", {"urls": "https://a.example.com/"})

    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_request_announcing_a_gigabyte_is_answered_before_its_body_is_sent(
    live_server: Any, alice: User
) -> None:
    ApiKey.objects.create(
        owner=alice, name="Main", key="fc-x0000000000000000000000000000a1", is_default=True
    )
    client = Client()
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    address = urlsplit(live_server.url)
    boundary = "bound"
    head = (
        "POST /start/batch/ HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Cookie: sessionid={session}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {2**30}\r\n\r\n"
    )
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; '
        'filename="urls.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    with socket.create_connection((address.hostname, address.port), timeout=60) as conn:
        conn.sendall(head.encode() + part.encode() + b"https://example.com/\n" * 3000)
        # 64 KB of the announced gigabyte sent: the answer comes without waiting for the rest.
        answer = b""
        while b"</html>" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 200")
    assert b"this server accepts a file of at most 2,097,152 bytes. Nothing was read." in answer


@pytest.mark.parametrize("hostile", ["\x00", "\x1b", "\u202e"], ids=["NUL", "ESC", "RLO"])
def test_a_url_holding_a_control_character_is_refused_and_never_shown_raw(
    alice_client: Client, key: ApiKey, hostile: str
) -> None:
    upload = SimpleUploadedFile("urls.txt", f"https://a.example.com/{hostile}x\n".encode())

    response = alice_client.post("/start/batch/", {"upload": upload, "formats": ["markdown"]})

    page = text_of(response)
    assert "File line 1 is not a web address: “https://a.example.com/\ufffdx”" in page
    assert hostile not in page
