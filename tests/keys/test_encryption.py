"""API keys at rest: encryption, key rotation (`rotate_api_keys`), and where the keys come from."""

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from firecrawl_dash.local_secrets import local_secret
from keys.models import ApiKey
from tests.conftest import ALICE_KEY

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def old_keys(alice: User, settings: Any) -> list[str]:
    """Three of Alice's API keys, stored under the OLD encryption key."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    plain = [f"{ALICE_KEY}{n}" for n in range(3)]
    for n, key in enumerate(plain):
        ApiKey.objects.create(owner=alice, name=f"Key {n}", key=key)
    return plain


def stored_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM jobs_apikey ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def readable_keys() -> list[str]:
    return [key.key for key in ApiKey.objects.order_by("pk")]


def rotate_api_keys(*args: str) -> str:
    out = StringIO()
    call_command("rotate_api_keys", *args, stdout=out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The encrypted field


def test_it_stores_a_fernet_token_instead_of_the_key(old_keys: list[str]) -> None:
    tokens = stored_tokens()

    for plain, token in zip(old_keys, tokens, strict=True):
        assert plain not in token
        assert Fernet(OLD).decrypt(token.encode()).decode() == plain


def test_it_reads_a_key_stored_under_an_older_encryption_key(
    old_keys: list[str], settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    assert readable_keys() == old_keys


def test_it_encrypts_new_values_with_the_newest_key(old_keys: list[str], settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    key = ApiKey.objects.get(name="Key 0")

    key.save()

    assert Fernet(NEW).decrypt(stored_tokens()[0].encode()).decode() == old_keys[0]


def test_it_explains_a_key_no_encryption_key_can_read(old_keys: list[str], settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OTHER]

    with pytest.raises(ImproperlyConfigured) as caught:
        ApiKey.objects.get(name="Key 0")

    message = str(caught.value)
    assert message == "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS"
    for secret in [OLD, OTHER, old_keys[0], stored_tokens()[0]]:
        assert secret not in message


def test_it_explains_a_malformed_encryption_key(db: Any, settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    with pytest.raises(ImproperlyConfigured) as caught:
        ApiKey.objects.create(owner=User.objects.create(username="carol"), name="K", key="fc-x")

    assert "must be urlsafe base64 Fernet keys" in str(caught.value)
    assert "not-a-fernet-key" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# manage.py rotate_api_keys


def test_it_rotates_every_key_to_the_newest_encryption_key(
    old_keys: list[str], settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    output = rotate_api_keys("--batch-size", "2")

    assert output == "Rotated 3 API keys to the newest encryption key (0 already used it).\n"
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert readable_keys() == old_keys
    # Rotation re-encrypts the same plaintext; it never encrypts the token a second time.
    assert all(Fernet(NEW).decrypt(t.encode()).decode().startswith("fc-") for t in stored_tokens())


def test_it_rotates_nothing_the_second_time(old_keys: list[str], settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    rotate_api_keys()
    tokens = stored_tokens()

    output = rotate_api_keys()

    assert output == "Rotated 0 API keys to the newest encryption key (3 already used it).\n"
    assert stored_tokens() == tokens
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert readable_keys() == old_keys


def test_it_rotates_webhook_secrets_too(old_keys: list[str], settings: Any) -> None:
    first = ApiKey.objects.order_by("pk").first()
    assert first is not None
    first.save_webhook_settings(secret="whsec-rotate-me", enabled=True)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    output = rotate_api_keys()

    assert output.endswith("Rotated 1 webhook secret (0 already used the newest key).\n")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    first.refresh_from_db()
    assert first.webhook_secret == "whsec-rotate-me"
    assert readable_keys() == old_keys


def test_it_leaves_other_columns_alone_when_rotating(old_keys: list[str], settings: Any) -> None:
    before = list(ApiKey.objects.order_by("pk").values("name", "key_hint", "is_default"))
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    rotate_api_keys()

    assert list(ApiKey.objects.order_by("pk").values("name", "key_hint", "is_default")) == before


def test_it_rotates_what_it_can_and_names_what_it_cannot(
    old_keys: list[str], alice: User, settings: Any
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OTHER]
    stray = ApiKey.objects.create(owner=alice, name="Stray", key="fc-stray")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    with pytest.raises(CommandError) as caught:
        rotate_api_keys()

    assert str(caught.value).startswith(
        f"1 API key(s) cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS (ids {stray.pk})"
    )
    for secret in [OLD, NEW, OTHER, "fc-stray"]:
        assert secret not in str(caught.value)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert [key.key for key in ApiKey.objects.exclude(pk=stray.pk).order_by("pk")] == old_keys


def test_it_rotates_an_empty_table(db: Any) -> None:
    assert rotate_api_keys() == (
        "Rotated 0 API keys to the newest encryption key (0 already used it).\n"
    )


# ---------------------------------------------------------------------------------------------
# Where the encryption keys come from


def test_it_generates_a_local_secret_once_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / ".local-secrets"

    first = local_secret(path, "FIELD_ENCRYPTION_KEYS")
    again = local_secret(path, "FIELD_ENCRYPTION_KEYS")

    assert first == again
    Fernet(first)  # a usable Fernet key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_it_keeps_earlier_local_secrets_when_adding_another(tmp_path: Path) -> None:
    path = tmp_path / ".local-secrets"
    key = local_secret(path, "FIELD_ENCRYPTION_KEYS")

    secret = local_secret(path, "SECRET_KEY")

    assert len(secret) >= 50
    assert local_secret(path, "FIELD_ENCRYPTION_KEYS") == key
    assert local_secret(path, "SECRET_KEY") == secret


def start_django(**env: str) -> subprocess.Popen[str]:
    """Start Django in a fresh process with exactly these settings-related variables."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FIELD_ENCRYPTION_KEYS", "SECRET_KEY", "DEBUG"))
    }
    clean["DJANGO_SETTINGS_MODULE"] = "firecrawl_dash.settings"
    return subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, **env},
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def production_starts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Exit code and stderr of Django started with DEBUG=false three ways, in parallel."""
    keys_file = tmp_path_factory.mktemp("secrets") / "keys"
    keys_file.write_text(f"{NEW},{OLD}\n")
    processes = {
        "without keys": start_django(DEBUG="false", SECRET_KEY="x"),
        "with keys": start_django(
            DEBUG="false", SECRET_KEY="x", FIELD_ENCRYPTION_KEYS=f"{NEW},{OLD}"
        ),
        "with a keys file": start_django(
            DEBUG="false", SECRET_KEY="x", FIELD_ENCRYPTION_KEYS_FILE=str(keys_file)
        ),
    }
    results = {}
    for name, process in processes.items():
        _, stderr = process.communicate(timeout=60)
        results[name] = (process.returncode, stderr)
    return results


def test_it_refuses_to_start_in_production_without_encryption_keys(
    production_starts: dict[str, tuple[int, str]],
) -> None:
    returncode, stderr = production_starts["without keys"]

    assert returncode != 0
    assert (
        "ImproperlyConfigured: FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEYS_FILE) is required "
        "when DEBUG=false" in stderr
    )


@pytest.mark.parametrize("how", ["with keys", "with a keys file"])
def test_it_starts_in_production_with_encryption_keys(
    production_starts: dict[str, tuple[int, str]], how: str
) -> None:
    assert production_starts[how] == (0, "")
