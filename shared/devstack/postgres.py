"""A throwaway PostgreSQL cluster in a temporary directory, for tests and local runs.

Never touches the system cluster on port 5432: each :class:`ThrowawayPostgres` runs its own
``initdb``-created cluster on a free loopback port, tuned for speed over durability
(``fsync=off``), and deletes it on :meth:`ThrowawayPostgres.stop`. Concurrency behaviour
(``FOR UPDATE SKIP LOCKED`` and friends) is only meaningful here, not on SQLite.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

_PG_ROOT = Path("/usr/lib/postgresql")
_CLUSTER_OWNER = "postgres"
_SUPERUSER = "postgres"
_APT_TIMEOUT_S = 900
_TAIL_LINES = 40
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Throwaway data: durability buys nothing and costs seconds per test run.
_SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=200"
)


class PostgresStartError(RuntimeError):
    """PostgreSQL could not be installed, initialised, started or used."""


def ensure_postgres_installed() -> Path:
    """Return the server's bin directory, installing Debian's ``postgresql`` if needed.

    Picks the highest ``/usr/lib/postgresql/<major>/bin`` that has ``initdb``. Installing runs
    ``apt-get update`` and ``apt-get install -y postgresql`` non-interactively (needs root).

    Raises:
        PostgresStartError: No server is installed and installing it failed.
    """
    found = _installed_bin_dir()
    if found is not None:
        return found
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        raise PostgresStartError(
            f"no PostgreSQL server under {_PG_ROOT} and no apt-get to install one; "
            "install the PostgreSQL server binaries (initdb, pg_ctl) yourself"
        )
    if os.geteuid() != 0:
        raise PostgresStartError(
            f"no PostgreSQL server under {_PG_ROOT}; run 'sudo apt-get install postgresql'"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt_get, "update"], [apt_get, "install", "-y", "postgresql"]):
        _run(
            command,
            f"install PostgreSQL ({' '.join(command[1:])})",
            env=env,
            timeout=_APT_TIMEOUT_S,
        )
    found = _installed_bin_dir()
    if found is None:
        raise PostgresStartError(
            f"'apt-get install postgresql' succeeded but no initdb appeared under {_PG_ROOT}"
        )
    return found


class ThrowawayPostgres:
    """A private PostgreSQL cluster on ``127.0.0.1`` and a free port, deleted on stop.

    Args:
        base_dir: Parent for the cluster's temporary directory (system temp dir by default).
            When running as root it must be traversable by the ``postgres`` user.
        bin_dir: PostgreSQL's bin directory; :func:`ensure_postgres_installed` if omitted.

    As root the server runs as the ``postgres`` user (``initdb`` refuses root); as any other
    user it runs as that user. Authentication is ``trust`` for the ``postgres`` superuser.
    """

    def __init__(self, base_dir: Path | None = None, *, bin_dir: Path | None = None) -> None:
        self._base_dir = base_dir
        self._bin_dir = bin_dir
        self._root: Path | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            raise RuntimeError("the PostgreSQL cluster has not been started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL of the ``postgres`` database, ``postgresql://postgres@127.0.0.1:<port>/postgres``."""
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def directory(self) -> Path | None:
        """The temporary directory holding the cluster, while it exists."""
        return self._root

    def async_url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for ``database`` with the asyncpg driver."""
        return f"postgresql+asyncpg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60) -> str:
        """Initialise and start the cluster; return its base URL (see :attr:`url`).

        Raises:
            PostgresStartError: ``initdb`` or ``pg_ctl start`` failed (with the log tail).
        """
        if self._root is not None:
            raise RuntimeError("the PostgreSQL cluster is already running")
        bin_dir = self._bin_dir if self._bin_dir is not None else ensure_postgres_installed()
        self._bin_dir = bin_dir
        if self._base_dir is not None:
            self._base_dir.mkdir(parents=True, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix="inspraak-pg-", dir=self._base_dir))
        try:
            self._initdb(bin_dir)
            # A port picked as free can be taken before the postmaster binds it; pick again.
            for attempt in range(1, 4):
                try:
                    self._pg_ctl_start(bin_dir, timeout)
                    break
                except PostgresStartError as exc:
                    if attempt == 3 or "already in use" not in str(exc):
                        raise
            # A test run that dies of an exception must not leave a postmaster behind.
            atexit.register(self.stop)
            return self.url
        except BaseException:
            self.stop()
            raise

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its asyncpg SQLAlchemy URL.

        Raises:
            ValueError: ``name`` is not a plain identifier (it is put into SQL unquoted-safe).
            PostgresStartError: ``CREATE DATABASE`` failed, e.g. because it exists.
        """
        if not _DATABASE_NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        bin_dir = self._bin_dir if self._bin_dir is not None else ensure_postgres_installed()
        # psql over TCP as the superuser; trust auth, so it works from any OS user.
        self._run_psql(bin_dir, f'CREATE DATABASE "{name}"')
        return self.async_url(name)

    def stop(self, timeout: float = 30) -> None:
        """Stop the server (fast shutdown) and delete its directory; safe to call twice."""
        root, self._root = self._root, None
        self._port = None
        atexit.unregister(self.stop)
        if root is None:
            return
        data = root / "data"
        if (data / "postmaster.pid").exists():
            bin_dir = self._bin_dir if self._bin_dir is not None else _installed_bin_dir()
            if bin_dir is not None:
                pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "stop", "-w"]
                try:
                    _run(
                        _as_owner([*pg_ctl, "-m", "fast", "-t", str(int(timeout))]),
                        "stop PostgreSQL (pg_ctl stop)",
                    )
                except PostgresStartError:
                    # Fast shutdown waits for nothing but can still stall; do not leak it.
                    _run(
                        _as_owner([*pg_ctl, "-m", "immediate"]),
                        "stop PostgreSQL (pg_ctl stop)",
                        check=False,
                    )
        shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _initdb(self, bin_dir: Path) -> None:
        assert self._root is not None
        (self._root / "socket").mkdir()
        if os.geteuid() == 0:
            owner = _cluster_owner()
            for path in (self._root, self._root / "socket"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        _run(
            _as_owner([
                str(bin_dir / "initdb"), "-D", str(self._root / "data"),
                "-A", "trust", "-U", _SUPERUSER, "--encoding=UTF8", "--no-locale",
            ]),
            "initialise a PostgreSQL cluster (initdb)",
        )  # fmt: skip

    def _pg_ctl_start(self, bin_dir: Path, timeout: float) -> None:
        assert self._root is not None
        port = _free_port()
        log = self._root / "postgres.log"
        options = f"-p {port} -k {self._root / 'socket'} {_SERVER_OPTIONS}"
        try:
            _run(
                _as_owner([
                    str(bin_dir / "pg_ctl"), "-D", str(self._root / "data"), "-o", options,
                    "-l", str(log), "start", "-w", "-t", str(int(timeout)),
                ]),
                "start PostgreSQL (pg_ctl start)",
                timeout=timeout + 10,
            )  # fmt: skip
        except PostgresStartError as exc:
            tail = _tail(_read_text(log))
            raise PostgresStartError(f"{exc}\n--- last lines of postgres.log ---\n{tail}") from None
        self._port = port

    def _run_psql(self, bin_dir: Path, sql: str) -> None:
        _run(
            [
                str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", _SUPERUSER, "-d", "postgres",
                "-c", sql,
            ],
            f"run {sql!r}",
        )  # fmt: skip


def _installed_bin_dir() -> Path | None:
    if not _PG_ROOT.is_dir():
        return None
    majors = [
        entry
        for entry in _PG_ROOT.iterdir()
        if entry.name.isdigit() and (entry / "bin" / "initdb").is_file()
    ]
    if not majors:
        return None
    return max(majors, key=lambda entry: int(entry.name)) / "bin"


def _cluster_owner() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_CLUSTER_OWNER)
    except KeyError:
        raise PostgresStartError(
            f"running as root, but there is no '{_CLUSTER_OWNER}' user to own the cluster "
            "(initdb refuses to run as root; Debian's postgresql package creates that user)"
        ) from None


def _as_owner(command: Sequence[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return list(command)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresStartError("running as root, but 'runuser' is missing (util-linux)")
    _cluster_owner()
    return [runuser, "-u", _CLUSTER_OWNER, "--", *command]


def _run(
    command: Sequence[str],
    purpose: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = True,
) -> None:
    try:
        result = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PostgresStartError(f"could not {purpose}: timed out after {timeout:g} s") from exc
    except FileNotFoundError as exc:
        raise PostgresStartError(f"could not {purpose}: {exc}") from exc
    if check and result.returncode != 0:
        output = _tail(result.stdout + result.stderr)
        raise PostgresStartError(f"could not {purpose} (exit {result.returncode}):\n{output}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


def create_database_at(server_url: str, name: str) -> str:
    """Create database ``name`` on an existing server (``postgresql://user:pw@host:port/db``).

    Returns the database's asyncpg SQLAlchemy URL. Used when tests run against a PostgreSQL
    the suite did not start (``TEST_POSTGRES_URL``).
    """
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    if not _DATABASE_NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    url = make_url(server_url).set(drivername="postgresql")

    async def create() -> None:
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )
