"""Text from upstream made safe to store, display and encode.

JSON's "\\ud83d" escape decodes to a lone surrogate, which no UTF-8 encoder, database driver or
zip writer accepts, and PostgreSQL refuses NUL in text: each becomes U+FFFD.
"""

import re

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with every NUL and unpaired surrogate replaced by U+FFFD (a no-op scan otherwise)."""
    return _UNSAFE.sub("\ufffd", text)
