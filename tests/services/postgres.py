"""A private, throwaway PostgreSQL cluster for the drills that stop and start the database.

The machine's shared cluster (127.0.0.1:5432) is never restarted: this one is made with the distribution's
initdb and pg_ctl (`/usr/lib/postgresql/*/bin`) in a temporary directory, on a free loopback port, run as
the `postgres` user when the tests run as root (PostgreSQL refuses to run as root), and removed afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.devrun import free_port


def postgres_binaries() -> Path | None:
    """The newest installed server's bin directory, or None when there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    def __init__(self, bin_dir: Path, data_root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = data_root
        self.data = data_root / "data"
        self.log = data_root / "postgres.log"
        self.port = free_port()
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}"
        self._user = None if os.geteuid() != 0 else pwd.getpwnam("postgres")

    def _run(self, *args: str) -> None:
        def become_postgres() -> None:
            if self._user is not None:
                os.setgid(self._user.pw_gid)
                os.setuid(self._user.pw_uid)

        result = subprocess.run([str(self.bin_dir / args[0]), *args[1:]], capture_output=True, text=True,
                                preexec_fn=become_postgres, cwd=self.root, timeout=120)
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def copy_database(self, source_url: str, name: str) -> str:
        """A copy of another server's database (schema and rows, e.g. the tests' migrated one) as `name` here;
        its URL. Much quicker than migrating a new database from nothing."""
        target = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        dump = subprocess.run([str(self.bin_dir / "pg_dump"), "-Fc", "--no-owner", "--no-acl",
                               "-d", source_url.replace("postgres://", "postgresql://", 1)],
                              capture_output=True, timeout=120, check=True).stdout
        subprocess.run([str(self.bin_dir / "createdb"), *target, name], capture_output=True, timeout=60, check=True)
        restored = subprocess.run([str(self.bin_dir / "pg_restore"), *target, "--no-owner", "--no-acl", "-d", name],
                                  input=dump, capture_output=True, timeout=120)
        if restored.returncode != 0:
            raise RuntimeError(f"pg_restore failed: {restored.stderr.decode(errors='replace')[-1500:]}")
        return f"{self.admin_url}/{name}"

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every connection at once, as a restart by the operator or a failover does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster, started; stopped and removed afterwards. RuntimeError when none can be made."""
    bin_dir = postgres_binaries()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="kyoso-drill-pg-"))
    server = PrivatePostgres(bin_dir, root)
    if server._user is not None:
        os.chown(root, server._user.pw_uid, server._user.pw_gid)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(root, ignore_errors=True)
