"""Text that every page, database, export and encoder accepts, for anything that came from upstream.

JSON's "\\ud83d" escape decodes to an unpaired surrogate, which no UTF-8 encoder, database driver or
zip writer accepts, and PostgreSQL refuses NUL in text: both become U+FFFD before text is shown or
stored anywhere but in a document's verbatim JSON.
"""

import re

REPLACEMENT = "\ufffd"
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with each NUL and each surrogate code point replaced by U+FFFD.

    Nearly all text needs nothing, so that case is checked first, and the same object comes
    back: an ASCII string knows it is ASCII (no scan), and a non-ASCII one without surrogates
    encodes to UTF-8 about five times faster than a regular expression can scan it.
    """
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return _UNSAFE.sub(REPLACEMENT, text)
    return text.replace("\x00", REPLACEMENT) if b"\x00" in encoded else text
