"""A throwaway PostgreSQL server for tests: ``initdb``, start on loopback, stop, delete.

The PostgreSQL store's guarantees (no double assignment, no lost update) rest on the
database's own locking, so they are tested against a real server rather than a fake. This
module starts one from the installed binaries in a fresh directory and removes it afterwards;
a host can use it for its own tests of a PostgreSQL-backed desk::

    with postgres_server() as dsn:
        conn = psycopg.connect(dsn)

The server trusts every local connection, listens only on 127.0.0.1 and runs with
``fsync=off``: it is for tests, never for data anyone wants to keep. PostgreSQL refuses to
run as root, so under root the server runs as an existing unprivileged account
(``postgres`` if present, else ``nobody``) through ``runuser`` (or ``setpriv``/``su``).

It needs the server binaries only (Debian: ``apt-get install postgresql``), not psycopg.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from supportflow.errors import SupportflowError

__all__ = [
    "FreshDatabases",
    "PostgresServer",
    "PostgresUnavailable",
    "postgres_available",
    "postgres_server",
]

START_TIMEOUT = 20
"""Seconds the server gets to accept connections before :class:`PostgresUnavailable`."""

_SEARCH_ROOT = Path("/usr/lib/postgresql")  # Debian/Ubuntu: /usr/lib/postgresql/<major>/bin
_SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 100  # sun_path holds 107 bytes; ".s.PGSQL.<port>" is appended


class PostgresUnavailable(SupportflowError, RuntimeError):
    """No test server could be started; the message says why (missing binaries, log tail).

    Not :class:`~supportflow.errors.OptionalDependencyMissing`: that one names a pip extra
    to install, while this is about the machine (server binaries, users, a server that did
    not come up), which no pip extra fixes.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot start a PostgreSQL test server: {reason}")


def find_bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl``, ``postgres`` and ``createdb``.

    ``initdb`` on PATH wins, else the highest ``/usr/lib/postgresql/<major>/bin``. The other
    programs are taken from beside the real ``initdb`` so their versions always match.
    """
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    if _SEARCH_ROOT.is_dir():
        majors = [p for p in _SEARCH_ROOT.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
        majors.sort(key=lambda p: tuple(int(part) for part in p.name.split(".")), reverse=True)
        candidates.extend(p / "bin" for p in majors)
    needed = ("initdb", "pg_ctl", "postgres", "createdb")
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in needed):
            return directory
    raise PostgresUnavailable(
        f"no directory with {', '.join(needed)} on PATH or under {_SEARCH_ROOT}/*/bin "
        "(Debian: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _reachable(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may enter every directory on the way to ``path``."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        owner, group = directory.stat().st_uid, directory.stat().st_gid
        if owner == account.pw_uid:
            allowed = mode & stat.S_IXUSR
        elif group in groups:
            allowed = mode & stat.S_IXGRP
        else:
            allowed = mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


class PostgresServer:
    """One throwaway server in a fresh directory under ``base_dir``: ``start()``, ``stop()``.

    ``dsn`` is ``postgresql://postgres@127.0.0.1:<port>/<database>`` once started. ``stop()``
    shuts the server down and deletes its directory; it is safe to call twice. Under root
    ``base_dir`` (default: the system temp directory) must be enterable by the account the
    server runs as, which rules out e.g. pytest's ``tmp_path`` (``/tmp/pytest-of-root`` is
    private to root).
    """

    def __init__(
        self, base_dir: str | os.PathLike[str] | None = None, database: str = "test"
    ) -> None:
        self.base_dir = Path(base_dir or tempfile.gettempdir()).resolve()
        self.database = database
        self.directory: Path | None = None
        self.port: int | None = None
        self._bin: Path | None = None
        self._account: pwd.struct_passwd | None = None

    @property
    def dsn(self) -> str:
        """The connection string; only while the server runs."""
        if self.port is None:
            raise PostgresUnavailable("the server is not running; call start() first")
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (inside :attr:`directory`)."""
        if self.directory is None:
            raise PostgresUnavailable("the server is not running; call start() first")
        return self.directory / "data"

    def start(self) -> str:
        """Create the cluster, start the server and the database; return the DSN."""
        if self.port is not None:
            return self.dsn
        self._bin = find_bin_dir()
        self._account = _run_as_account()
        if self._account is not None and not _reachable(self.base_dir, self._account):
            raise PostgresUnavailable(
                f"{self.base_dir} is not reachable by {self._account.pw_name!r}, the account "
                "the server runs as under root; pass a base_dir every user can enter"
            )
        self.directory = Path(tempfile.mkdtemp(prefix="supportflow-pg-", dir=self.base_dir))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self.dsn

    def _start(self) -> None:
        assert self.directory is not None
        if len(str(self.directory)) > _SOCKET_PATH_MAX - 20:
            raise PostgresUnavailable(f"{self.directory} is too long for a unix socket path")
        if self._account is not None:
            os.chown(self.directory, self._account.pw_uid, self._account.pw_gid)
        self._run(
            "initdb",
            [
                *("-D", str(self.data_dir), f"--username={_SUPERUSER}", "--auth=trust"),
                *("--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
            ],
        )
        port = _free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(self.directory),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "50",
            "shared_buffers": "16MB",
        }
        lines = [f"{key} = {_quote(value)}" for key, value in settings.items()]
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# supportflow test server\n" + "\n".join(lines) + "\n")
        log = self.directory / "server.log"
        try:
            self._run(
                "pg_ctl",
                [
                    *("start", "-D", str(self.data_dir), "-l", str(log)),
                    *("-w", "-t", str(START_TIMEOUT)),
                ],
                timeout=START_TIMEOUT + 10,
            )
        except PostgresUnavailable as exc:
            raise PostgresUnavailable(f"{exc.reason}\nserver log:\n{_tail(log)}") from None
        self.port = port
        self._run("createdb", ["-h", "127.0.0.1", "-p", str(port), "-U", _SUPERUSER, self.database])

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        if self.directory is None:
            return
        if self._bin is not None and (self.data_dir / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                try:
                    self._run("pg_ctl", ["stop", "-D", str(self.data_dir), "-m", mode, "-w"])
                    break
                except PostgresUnavailable:
                    continue
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None
        self.port = None

    def _run(self, program: str, args: Sequence[str], timeout: float = 60) -> None:
        assert self._bin is not None
        assert self.directory is not None
        command = _as_account([str(self._bin / program), *args], self._account)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        try:
            done = subprocess.run(
                command,
                cwd=self.directory,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{program} failed: {exc}") from None
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()[-2000:]
            raise PostgresUnavailable(f"{program} exited with {done.returncode}: {output}")

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _run_as_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and neither a 'postgres' nor 'nobody' account")


def _as_account(command: list[str], account: pwd.struct_passwd | None) -> list[str]:
    """``command`` run as ``account`` (runuser, else setpriv, else su); as is when None."""
    if account is None:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", account.pw_name, "--", *command]
    if shutil.which("setpriv"):
        ids = [f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups"]
        return ["setpriv", *ids, "--", *command]
    if shutil.which("su"):
        return ["su", "-s", "/bin/sh", account.pw_name, "-c", shlex.join(command)]
    raise PostgresUnavailable("running as root and none of runuser, setpriv, su to drop it")


def _quote(value: str) -> str:
    """A postgresql.conf string literal (the directory may hold a quote)."""
    return "'" + value.replace("'", "''") + "'"


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


@contextmanager
def postgres_server(
    base_dir: str | os.PathLike[str] | None = None, database: str = "test"
) -> Iterator[str]:
    """A throwaway server for the ``with`` block; yields its DSN, deletes it afterwards."""
    with PostgresServer(base_dir, database) as server:
        yield server.dsn


@functools.cache
def postgres_available() -> str | None:
    """None when a test server can be started here, else the reason (for ``pytest.skip``).

    It really starts and stops one (about a second, once per process): only that proves the
    binaries, the accounts and the machine all allow it.
    """
    try:
        with postgres_server():
            return None
    except PostgresUnavailable as exc:
        return str(exc)


class FreshDatabases:
    """Empty, migrated databases on one server, one per call, for store tests.

    A database nobody is connected to any more (its store closed, or collected) is handed
    out again, emptied with ``TRUNCATE`` (about 50 ms); otherwise a new one is copied from
    a template migrated once (``CREATE DATABASE ... TEMPLATE``, about 250 ms). Needs
    psycopg (the ``postgres`` extra)::

        with postgres_server() as dsn:
            databases = FreshDatabases(dsn)
            store = PostgresStore(databases.new_dsn())
    """

    def __init__(self, server_dsn: str) -> None:
        self._server_dsn = server_dsn
        self._made: list[str] = []
        self._template: str | None = None

    def new_dsn(self) -> str:
        """The DSN of an empty database at the latest schema version."""
        import psycopg
        from psycopg import conninfo

        from supportflow.storage.postgres import PostgresStore

        def dsn_of(name: str) -> str:
            return conninfo.make_conninfo(self._server_dsn, dbname=name)

        with psycopg.connect(self._server_dsn, autocommit=True) as admin:
            if self._template is None:
                template = f"supportflow_template_{os.getpid()}"
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{template}"')
                PostgresStore(dsn_of(template)).close()
                self._template = template
            rows = admin.execute(
                "SELECT DISTINCT datname FROM pg_stat_activity WHERE datname = ANY(%s)",
                (self._made,),
            ).fetchall()
            in_use = {row[0] for row in rows}
            idle = [name for name in self._made if name not in in_use]
            if not idle:
                name = f"supportflow_{os.getpid()}_{len(self._made) + 1}"
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
                self._made.append(name)
                return dsn_of(name)
        with psycopg.connect(dsn_of(idle[0]), autocommit=True) as conn:
            tables = conn.execute(
                "SELECT quote_ident(table_name) FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_name <> 'schema_migrations'"
            ).fetchall()
            conn.execute("TRUNCATE " + ", ".join(row[0] for row in tables))
        return dsn_of(idle[0])
