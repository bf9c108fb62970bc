"""Text that every page, database, export and encoder accepts, for anything that came from upstream.

JSON's "\\ud83d" escape decodes to an unpaired surrogate, which no UTF-8 encoder, database driver or
zip writer accepts, and PostgreSQL refuses NUL in text: both become U+FFFD before text is shown or
stored anywhere but in a document's verbatim JSON. So do the characters that act on a page
instead of showing on it: C0 and C1 controls other than tab, newline and carriage return (ESC
starts terminal sequences, BEL rings), the bidirectional overrides and isolates (U+202E turns
"exe.txt" into "txt.exe"), and the two private-use characters the search highlighter uses as
markers (jobs.search), which document text must never be able to forge.

Stored strings are also cut to a documented length (`cut`): a page shows the stored text, and a
30 MB error message or a 5 MB URL must not make a 78 MB page. The full text, where it matters,
stays in a document's verbatim JSON.
"""

import re

REPLACEMENT = "\ufffd"
# The search highlighter's markers (jobs.search): cleaned text never holds them.
MARK_START, MARK_END = "\ue000", "\ue001"
_C0 = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # and DEL; tab, newline and carriage return stay
_C1 = "\x80-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE_ASCII = re.compile(f"[{_C0}]")
# What ASCII text may hold: the printable characters, tab, newline and carriage return.
_SAFE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
_UNSAFE = re.compile(f"[{_C0}{_C1}{_BIDI}{MARK_START}{MARK_END}\ud800-\udfff]")

# What is kept of each upstream string when it is stored. URLs: longer than any browser keeps
# in its address bar; titles: a sentence or two; messages (failed URLs' errors, warnings): a
# paragraph. What is cut ends with "…".
MAX_URL = 4096
MAX_TITLE = 1000
MAX_MESSAGE = 2000
ELLIPSIS = "…"


def clean_text(text: str) -> str:
    """`text` with each unsafe character (see above) replaced by U+FFFD; same length.

    Nearly all text needs nothing, so that case is checked first, and the same object comes
    back: a line of printable text (most titles and URLs) has none of them, and is checked at C
    speed; other ASCII (markdown and HTML, lines of it) too, by deleting what it may hold from
    its bytes (3x the speed of a regular expression: the zip cleans every document's markdown
    and HTML); the rest is scanned once by a regular expression that also finds lone surrogates.
    """
    if text.isprintable():
        return text
    if text.isascii():
        if not text.encode("ascii").translate(None, _SAFE_ASCII):
            return text
        return _UNSAFE_ASCII.sub(REPLACEMENT, text)
    return _UNSAFE.sub(REPLACEMENT, text) if _UNSAFE.search(text) else text


def cut(text: str, limit: int) -> str:
    """`text` cleaned and, when longer than `limit` characters, cut to `limit` with "…" last."""
    if len(text) > limit:
        text = text[: limit - len(ELLIPSIS)] + ELLIPSIS
    return clean_text(text)
