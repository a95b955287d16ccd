"""A real, throwaway PostgreSQL server for the team-ledger tests.

Found on PATH (initdb, pg_ctl) or under /usr/lib/postgresql/*/bin (Debian's `postgresql`
package, which .ci/run installs). It listens on a unix socket in a fresh directory only (no TCP
port to collide on) and asks for a password (scram-sha-256), so URLs carry a real credential.
postgres refuses to run as root: as root the server runs as `nobody` through runuser.
`unavailable()` says exactly why it cannot run here, for the skip message.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

USER = "team"
PASSWORD = "Pg-s3cret-9f2c71"  # the credential the redaction tests look for


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    return None


def unavailable() -> str | None:
    missing = [n for n in ("initdb", "pg_ctl", "postgres") if find_bin(n) is None]
    if missing:
        return (f"PostgreSQL is not installed ({', '.join(missing)} not on PATH nor under "
                "/usr/lib/postgresql/*/bin; `apt-get install postgresql`)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root and runuser is missing: postgres refuses to run as root"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'realcost-agent[team]')"
    return None


class PgServer:
    def __init__(self) -> None:
        # Under /tmp with open permissions: the `nobody` user must reach it.
        self.base = Path(tempfile.mkdtemp(prefix="agent-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "postgres.log"
        self.sock.mkdir()
        self.running = False
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            for path in (self.base, self.sock):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self.base, 0o755)
        pwfile = self.base / "pw"
        pwfile.write_text(PASSWORD + "\n")
        os.chmod(pwfile, 0o644)
        self._run(find_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync", "--locale=C")
        pwfile.unlink()

    def _run(self, *argv: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in argv]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "nobody", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.base)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stdout}\n{proc.stderr}\n"
                               f"{self.log.read_text() if self.log.exists() else ''}")
        return proc

    def start(self, *, fsync: bool = False) -> None:
        """fsync off for tests (speed); the bench turns it on, as a real server has it."""
        opts = (f"-k {self.sock} -c listen_addresses='' -c fsync={'on' if fsync else 'off'}"
                " -c max_connections=40")
        self._run(find_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                  "-w", "-t", "60", "start")
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._run(find_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop",
                      check=False)
            self.running = False

    def url(self, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{quote(password)}@/postgres?host={quote(str(self.sock))}"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
