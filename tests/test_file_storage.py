"""FILE_STORAGE read from the environment as an operator sets it: the filesystem under
MEDIA_ROOT by default, S3 through django-storages' own AWS_* variables (a real SeaweedFS here),
and a clear line for a value that cannot work."""

import subprocess
import sys
from pathlib import Path

from tests.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS

ROOT = Path(__file__).resolve().parent.parent

# Run with the environment under test: writes one file through Django's default storage, reads
# it back, and says which backend and where.
PROBE = """
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import storages
default_storage = storages["default"]
name = default_storage.save("probe/a.png", ContentFile(b"stored"))
with default_storage.open(name) as stored:
    print(type(default_storage).__name__, name, stored.read().decode())
"""


def run(env: dict[str, str], code: str = PROBE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "firecrawl_dash.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_files_go_under_media_root_by_default(tmp_path: Path) -> None:
    result = run({"MEDIA_ROOT": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FileSystemStorage", "probe/a.png", "stored"]
    assert (tmp_path / "probe" / "a.png").read_bytes() == b"stored"


def test_file_storage_s3_uses_django_storages_own_settings(
    seaweedfs: SeaweedFS, s3_bucket: str, tmp_path: Path
) -> None:
    env = {
        "FILE_STORAGE": "s3",
        "AWS_S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": s3_bucket,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY_FILE": str(tmp_path / "secret"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "MEDIA_ROOT": str(tmp_path / "unused"),
    }
    (tmp_path / "secret").write_text(SECRET_KEY + "\n")

    result = run(env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "probe/a.png", "stored"]
    assert "probe/a.png" in seaweedfs.keys(s3_bucket)
    assert not (tmp_path / "unused").exists()


def test_a_file_storage_that_cannot_work_is_one_clear_line() -> None:
    unknown = run({"FILE_STORAGE": "ftp"}, "import django; django.setup()")
    no_bucket = run({"FILE_STORAGE": "s3"}, "import django; django.setup()")

    assert "FILE_STORAGE must be filesystem or s3, not 'ftp'" in unknown.stderr
    assert "FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME" in no_bucket.stderr
