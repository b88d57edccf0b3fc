"""A real single-node Apache Kafka broker (KRaft) for development and tests, without Docker.

The broker is the genuine ``org.apache.kafka:kafka_2.13`` artifact from Maven Central, fetched
with ``deploy/kafka/pom.xml`` into a cache outside the work tree and started as a plain JVM
process. Configuration lives next to the pom (``server.properties.template`` and
``log4j2.properties``).

Run ``python -m shared.devstack.kafka`` to start one from the command line: it prints
``KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:<port>`` and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

from kafka.admin import KafkaAdminClient

KAFKA_VERSION = "4.2.1"
"""The broker version ``deploy/kafka/pom.xml`` fetches; part of the cache directory name."""

READY_LOG_LINE = "Kafka Server started"
"""What the broker logs once it has finished starting up."""

# Maven 3.8 resolves an ancient dependency plugin when the version is not pinned.
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_MAVEN_TIMEOUT_S = 900
_TOOL_TIMEOUT_S = 120
_HEAP = "512m"
_TAIL_LINES = 40
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
# A log4j line at ERROR/FATAL (pattern in deploy/kafka/log4j2.properties), minus the logger.
_LOG_ERROR = re.compile(r"^\[[^\]]+\] (?:ERROR|FATAL) (.*?)(?: \([\w.$]+\))?$")
# The exception line a log4j ERROR line or a JVM failure prints.
_EXCEPTION = re.compile(r"^(?:Caused by: |Exception in thread \S+ )?[\w.$]+(?:Exception|Error)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_JVM_ERROR = re.compile(r"^Error\b|Could not find or load main class|\w(?:Exception|Error): ")


class KafkaStartError(RuntimeError):
    """The local Kafka broker, or the jars it runs from, could not be made ready."""


class _PortInUseError(KafkaStartError):
    """A port picked as free was taken before the broker bound it (worth a retry)."""


def kafka_deploy_dir() -> Path:
    """Return ``deploy/kafka`` of this checkout, found by walking up from this file."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "deploy" / "kafka"
        if (candidate / "pom.xml").is_file():
            return candidate
    raise KafkaStartError(f"cannot find deploy/kafka/pom.xml above {Path(__file__).resolve()}")


def default_cache_dir() -> Path:
    """Return ``$INSPRAAK_CACHE_DIR``, or ``~/.cache/inspraak`` when it is not set."""
    configured = os.environ.get("INSPRAAK_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "inspraak"


def fetch_kafka_jars(cache_dir: Path | None = None) -> Path:
    """Download the broker's jars with Maven (once) and return the directory holding them.

    The jars go to ``<cache_dir>/kafka-<version>-lib``; ``cache_dir`` defaults to
    :func:`default_cache_dir`. A marker file written after a successful download makes later
    calls free, and an interrupted download is redone. Editing the pom invalidates the cache.

    Raises:
        KafkaStartError: Maven is missing or the download failed (with Maven's output tail).
    """
    pom = kafka_deploy_dir() / "pom.xml"
    lib_dir = (cache_dir or default_cache_dir()) / f"kafka-{KAFKA_VERSION}-lib"
    marker = lib_dir / ".complete"
    # The marker records which pom produced the directory, so a version bump refetches.
    fingerprint = hashlib.sha256(pom.read_bytes()).hexdigest()
    if _marker_matches(marker, fingerprint):
        return lib_dir

    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaStartError(
            "Maven ('mvn') is not on PATH; it is needed to fetch the Kafka broker jars "
            f"from Maven Central (install it, e.g. 'apt-get install maven'). Pom: {pom}"
        )
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    # Parallel test runs share the cache: one downloads, the others wait and reuse it.
    with _exclusive_lock(lib_dir.parent / f"{lib_dir.name}.lock"):
        if _marker_matches(marker, fingerprint):
            return lib_dir
        shutil.rmtree(lib_dir, ignore_errors=True)
        command = [
            mvn, "-B", "-q", "-f", str(pom),
            # Debian's mvn colours output even in batch mode; error messages want plain text.
            "-Dstyle.color=never",
            f"{_DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={lib_dir}",
            "-DincludeScope=runtime",
        ]  # fmt: skip
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_MAVEN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaStartError(
                f"mvn did not finish fetching the Kafka jars within {_MAVEN_TIMEOUT_S} s"
            ) from exc
        if result.returncode != 0:
            # Maven prints its [ERROR] lines on stdout, so both streams matter.
            output = _ANSI.sub("", result.stdout + result.stderr)
            raise KafkaStartError(
                f"mvn failed (exit {result.returncode}) fetching the Kafka jars "
                f"described by {pom}: {_maven_cause(output)}\n{_tail_text(output, _TAIL_LINES)}"
            )
        _check_lib_dir(lib_dir)
        marker.write_text(fingerprint + "\n")
    return lib_dir


class LocalKafkaBroker:
    """A throwaway single-node KRaft broker on loopback, on free ports.

    Args:
        data_dir: Parent directory for the broker's temporary directory (config, data, logs);
            the system temp directory by default. Only the temporary directory is removed.
        lib_dir: Directory with the broker jars; fetched with :func:`fetch_kafka_jars` if
            omitted.
        port: Client (PLAINTEXT) port; a free one is picked if omitted.
        overrides: Extra ``server.properties`` entries; they win over the template.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        lib_dir: Path | None = None,
        port: int | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._data_parent = data_dir
        self._lib_dir = lib_dir
        self._port = port
        self._overrides = dict(overrides or {})
        self._workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._bootstrap: str | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``127.0.0.1:<port>`` of the running broker."""
        if self._bootstrap is None:
            raise RuntimeError("the Kafka broker has not been started")
        return self._bootstrap

    @property
    def pid(self) -> int | None:
        """The broker JVM's process id while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def is_running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The broker's exit status once it has exited (negative: killed by that signal)."""
        return None if self._process is None else self._process.poll()

    @property
    def workdir(self) -> Path | None:
        """The temporary directory holding config, data and logs, while it exists."""
        return self._workdir

    def start(self, timeout: float = 90) -> str:
        """Start the broker and block until it serves admin requests.

        Returns:
            The bootstrap servers string, ``127.0.0.1:<port>``.

        Raises:
            KafkaStartError: Java or the jars are missing, formatting failed, or the broker
                exited or was not ready within ``timeout`` seconds (the message names the
                likely cause and quotes the last log lines).
        """
        if self._process is not None:
            raise RuntimeError("the Kafka broker is already running")
        java = shutil.which("java")
        if java is None:
            raise KafkaStartError(
                "Java ('java') is not on PATH; the local Kafka broker needs a JRE 17 or newer "
                "(e.g. 'apt-get install openjdk-17-jre-headless')"
            )
        lib_dir = self._lib_dir if self._lib_dir is not None else fetch_kafka_jars()
        _check_lib_dir(lib_dir)
        deadline = time.monotonic() + timeout
        # Only ports we picked ourselves can be re-picked when another process grabbed one.
        attempts = 1 if self._port is not None else 3
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(java, lib_dir, deadline, timeout)
            except _PortInUseError as exc:
                if attempt == attempts or time.monotonic() >= deadline:
                    raise KafkaStartError(str(exc)) from None
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker (SIGTERM, SIGKILL only if it ignores that) and delete its files."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # start_new_session made the JVM a process group leader; signal just that group.
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._bootstrap = None
        atexit.unregister(self.stop)

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last lines of the broker's log and JVM console output, for error messages."""
        return "\n".join(
            f"--- last lines of {name} ---\n{_tail_text(text, lines)}"
            for name, text in self._log_texts().items()
            if text.strip()
        )

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

    def _start_once(self, java: str, lib_dir: Path, deadline: float, timeout: float) -> str:
        if self._data_parent is not None:
            self._data_parent.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="inspraak-kafka-", dir=self._data_parent))
        self._workdir = workdir
        try:
            logs_dir = workdir / "logs"
            logs_dir.mkdir()
            if self._port is not None:
                broker_port, controller_port = self._port, _free_ports(1, avoid={self._port})[0]
            else:
                broker_port, controller_port = _free_ports(2)
            properties = workdir / "server.properties"
            properties.write_text(
                _render_properties(broker_port, controller_port, workdir / "data", self._overrides)
            )
            jvm = _jvm_command(java, lib_dir, logs_dir)
            cluster_id = _random_cluster_id(jvm, workdir)
            _run_tool(
                [*jvm, "kafka.tools.StorageTool", "format", "--standalone",
                 "-t", cluster_id, "-c", str(properties)],
                workdir,
                "format the broker's storage",
            )  # fmt: skip
            with (logs_dir / "kafkaServer.out").open("wb") as console:
                self._process = subprocess.Popen(
                    [*jvm[:1], f"-Xms{_HEAP}", f"-Xmx{_HEAP}", "-XX:+UseG1GC", *jvm[1:],
                     "kafka.Kafka", str(properties)],
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    # Own process group: Ctrl-C in a terminal must not kill the broker before
                    # its owner gets to stop it in order.
                    start_new_session=True,
                )  # fmt: skip
            # An owner that dies of an exception must not leave a 512 MB JVM behind.
            atexit.register(self.stop)
            self._bootstrap = f"127.0.0.1:{broker_port}"
            self._wait_until_ready(deadline, timeout)
            return self._bootstrap
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, deadline: float, timeout: float) -> None:
        assert self._process is not None and self._workdir is not None
        server_log = self._workdir / "logs" / "server.log"
        logged_started = False
        last_probe_error: Exception | None = None
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                self._raise_failure(f"the Kafka broker exited with code {exit_code} while starting")
            if not logged_started:
                logged_started = READY_LOG_LINE in _read_text(server_log)
            if logged_started:
                try:
                    _admin_round_trip(self.bootstrap_servers)
                    return
                except Exception as exc:  # any client error just means "not yet"
                    last_probe_error = exc
            if time.monotonic() >= deadline:
                if logged_started:
                    self._raise_failure(
                        f"the Kafka broker logged '{READY_LOG_LINE}' but did not answer an "
                        f"admin request within {timeout:g} s: {last_probe_error!r}"
                    )
                self._raise_failure(
                    f"the Kafka broker did not log '{READY_LOG_LINE}' within {timeout:g} s"
                )
            time.sleep(0.2)

    def _raise_failure(self, headline: str) -> None:
        # The first error explains a failure; the tail after it is mostly shutdown noise,
        # so look for the cause in the whole log but quote only the tail.
        full_log = "\n".join(self._log_texts().values())
        cause = _probable_cause(full_log)
        message = f"{headline}: {cause}" if cause else headline
        tail = self.log_tail()
        if tail:
            message += "\n" + tail
        in_use = "Address already in use" in full_log
        raise (_PortInUseError if in_use else KafkaStartError)(message)

    def _log_texts(self) -> dict[str, str]:
        if self._workdir is None:
            return {}
        logs = self._workdir / "logs"
        return {name: _read_text(logs / name) for name in ("server.log", "kafkaServer.out")}


def _render_properties(
    broker_port: int, controller_port: int, log_dir: Path, overrides: Mapping[str, str]
) -> str:
    template = string.Template((kafka_deploy_dir() / "server.properties.template").read_text())
    rendered = template.substitute(
        broker_port=broker_port, controller_port=controller_port, log_dir=log_dir
    )
    if overrides:
        # java.util.Properties keeps the last occurrence of a key, so appending overrides works.
        extra = "".join(f"{key}={value}\n" for key, value in overrides.items())
        rendered += "\n# Overrides passed to LocalKafkaBroker\n" + extra
    return rendered


def _jvm_command(java: str, lib_dir: Path, logs_dir: Path) -> list[str]:
    log_config = kafka_deploy_dir() / "log4j2.properties"
    return [
        java,
        f"-Dlog4j2.configurationFile=file:{log_config}",
        f"-Dkafka.logs.dir={logs_dir}",
        "-cp",
        f"{lib_dir}/*",
    ]


def _random_cluster_id(jvm: Sequence[str], cwd: Path) -> str:
    output = _run_tool([*jvm, "kafka.tools.StorageTool", "random-uuid"], cwd, "make a cluster id")
    # Take the id itself, in case a logger ever writes to stdout too.
    for line in reversed(output.splitlines()):
        if _CLUSTER_ID.match(line.strip()):
            return line.strip()
    raise KafkaStartError(f"StorageTool random-uuid printed no cluster id:\n{output}")


def _run_tool(command: Sequence[str], cwd: Path, purpose: str) -> str:
    try:
        result = subprocess.run(
            # Tools need little memory; do not let the JVM size its heap from the host's RAM.
            [command[0], "-Xmx256m", *command[1:]],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise KafkaStartError(f"could not {purpose}: timed out after {_TOOL_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        output = _tail_text(result.stdout + result.stderr, _TAIL_LINES)
        cause = _probable_cause(output)
        raise KafkaStartError(
            f"could not {purpose} (exit {result.returncode})"
            + (f": {cause}" if cause else "")
            + f"\n{output}"
        )
    return result.stdout


def _admin_round_trip(bootstrap_servers: str) -> None:
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="inspraak-devstack-probe",
        request_timeout_ms=5000,
        bootstrap_timeout_ms=5000,
    )
    try:
        admin.list_topics()
    finally:
        admin.close()


def _check_lib_dir(lib_dir: Path) -> None:
    if not any(lib_dir.glob("kafka_2.13-*.jar")):
        raise KafkaStartError(
            f"no Kafka broker jar (kafka_2.13-*.jar) in {lib_dir}; "
            "fetch the jars with fetch_kafka_jars()"
        )


def _marker_matches(marker: Path, fingerprint: str) -> bool:
    return _read_text(marker).strip() == fingerprint


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_ports(count: int, avoid: set[int] | None = None) -> list[int]:
    """Ask the kernel for distinct free loopback ports (holding all open so none repeats)."""
    sockets: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            if port not in (avoid or set()):
                ports.append(port)
    finally:
        for sock in sockets:
            sock.close()
    return ports


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _probable_cause(text: str) -> str:
    """Pick the line that best says why a start failed: the first ERROR and its exception."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _LOG_ERROR.match(line)
        if match:
            cause = match.group(1).strip()
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            if _EXCEPTION.match(following):
                cause = f"{cause}: {following}"
            return cause[:500]
    # No log4j output (the JVM or a tool died before logging): take its own error line.
    for line in lines:
        if _EXCEPTION.match(line.strip()) or _JVM_ERROR.search(line):
            return line.strip()[:500]
    return ""


def _maven_cause(output: str) -> str:
    """The first FATAL line, else the first non-empty ERROR line, of Maven's output."""
    for level in ("FATAL", "ERROR"):
        for line in output.splitlines():
            text = line.removeprefix(f"[{level}]").strip()
            if line.startswith(f"[{level}]") and text:
                return text.removeprefix("[ERROR]").strip()[:500]
    return "no [ERROR] line in its output"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def main(argv: Sequence[str] | None = None) -> int:
    """Start a broker, print ``KAFKA_BOOTSTRAP_SERVERS=...`` and run until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m shared.devstack.kafka",
        description="Run a local single-node Kafka broker until interrupted.",
    )
    parser.add_argument("--timeout", type=float, default=90, help="start timeout in seconds")
    parser.add_argument("--data-dir", type=Path, default=None, help="parent of the temp dir")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()
    starting = threading.Event()
    starting.set()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()
        if starting.is_set():
            # Abort the blocking start() once (it cleans up after itself); a second signal
            # must not interrupt that cleanup.
            starting.clear()
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    broker = LocalKafkaBroker(args.data_dir)
    try:
        try:
            bootstrap = broker.start(args.timeout)
        except KafkaStartError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            starting.clear()
        print(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap}", flush=True)
        print(f"Kafka broker ready at {bootstrap}; Ctrl-C stops it.", file=sys.stderr, flush=True)
        while not stop_requested.wait(0.5):
            if not broker.is_running:
                print(
                    f"error: the Kafka broker exited unexpectedly (status {broker.returncode})"
                    f"\n{broker.log_tail()}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
