"""Form posts with files, held to a hard cap before anything is stored.

A request whose Content-Length already says too much is refused before a byte of its body is
read; otherwise its file is kept in memory as it streams in and the request is refused the
moment the file passes the cap: nothing is ever spooled to disk, whatever a client sends. Text
fields are bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which is said plainly too.
"""

from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# What a multipart body holds besides the file and the text fields: boundaries, part headers.
MULTIPART_SLACK = 64 * 1024


class CappedUploadHandler(FileUploadHandler):
    """Keeps each uploaded file in memory, and stops reading the request once one passes
    `max_bytes` (`refused` then says so)."""

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.refused = False
        self._buffer = BytesIO()
        self._size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._buffer, self._size = BytesIO(), 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self.refused = True
            # Stop reading the body at once (the rest is never read, let alone stored).
            raise StopUpload(connection_reset=True)
        self._buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def read_capped(request: HttpRequest, max_file_bytes: int) -> str:
    """Read the request's form data, each file at most `max_file_bytes`; "" when it was read,
    else why it was refused (to say on the form). Call it before anything reads request.POST:
    the view is csrf_exempt and checks the token itself afterwards (csrf_protect)."""
    field_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_file_bytes + field_bytes + MULTIPART_SLACK:
        return (
            f"That is {length:,} bytes; this server accepts a file of at most "
            f"{max_file_bytes:,} bytes. Nothing was read."
        )
    handler = CappedUploadHandler(request, max_file_bytes)
    request.upload_handlers = [handler]
    try:
        request.POST  # noqa: B018 (parses the body, files included, through the handler)
    except RequestDataTooBig:
        return (
            f"That list is larger than this server accepts in the box ({field_bytes:,} bytes). "
            "Start it in parts."
        )
    if handler.refused:
        return (
            f"That file is larger than this server accepts ({max_file_bytes:,} bytes). "
            "Nothing past that was read."
        )
    return ""
