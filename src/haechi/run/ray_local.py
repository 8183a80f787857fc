"""A Ray cluster of real nodes on one machine, started with ``ray start``.

What a deployment does on several hosts (docs/deployment.md: ``ray start --head`` on one,
``ray start --address HEAD:PORT`` on each worker host), done here on one host for the
tests and the benchmark: each node is its own ``ray start --block`` process with its own
raylet, object store and ports, so killing a node's worker or a whole node behaves as on
a real cluster. Stopping sends SIGTERM to each ``ray start`` (which stops what it started)
and, if that is not enough, SIGKILL to what is left of its session only; ``ray stop`` is never used
(it stops every Ray process of the machine, someone else's too).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PORTS_PER_NODE = 8
WORKER_PORTS = 40
STARTED = "Ray runtime started"
AUTH_MODE = "RAY_AUTH_MODE"  # Ray 2.60: token or disabled (docs/deployment.md)


class ClusterError(RuntimeError):
    """``ray start`` could not bring a node up here."""


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_block(size: int) -> int:
    """The first of ``size`` consecutive free ports."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000 - size)
        if all(_free(p) for p in range(base, base + size)):
            return base
    raise ClusterError("no block of free ports found for a Ray node")


@dataclass
class LocalCluster:
    """``nodes`` CPU counts, the first the head's (it may be 0: it then only schedules)."""

    cpus: list[int]
    env: dict[str, str] = field(default_factory=dict)
    object_store_bytes: int = 200_000_000
    address: str = ""
    root: Path | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def driver_env(self) -> dict[str, str]:
        """What a driver (``haechi analyze --engine ray``) joining this cluster must have in
        its environment besides the address: the nodes' authentication mode, stated.

        Ray 2.60 turns token authentication on by itself for a process that finds
        ``~/.ray/auth_token`` (a local ``ray.init()`` leaves one) and off for one that does
        not, and nodes or drivers that disagree refuse each other (``ray start`` of the
        second node then fails with InvalidAuthToken). A cluster on 127.0.0.1 states the
        mode for every node: ``RAY_AUTH_MODE`` from ``env`` or this process's environment,
        else ``disabled``."""
        mode = self.env.get(AUTH_MODE) or os.environ.get(AUTH_MODE) or "disabled"
        return {AUTH_MODE: mode}

    def _ray(self) -> str:
        exe = Path(sys.executable).with_name("ray")
        if not exe.exists():
            found = shutil.which("ray")
            if found is None:
                raise ClusterError("the `ray` command is not installed (pip install 'haechi[ray]')")
            return found
        return str(exe)

    def start(self, timeout: float = 240.0) -> None:
        # Short: Ray's Unix sockets live under it, and their paths are limited to 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="hray-", dir="/tmp"))
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **self.env, **self.driver_env}
        try:
            for i, cpus in enumerate(self.cpus):
                self._start_node(i, cpus, env, timeout)
        except BaseException:
            self.stop()
            raise

    def _start_node(self, i: int, cpus: int, env: dict[str, str], timeout: float) -> None:
        assert self.root is not None
        base = _port_block(PORTS_PER_NODE + WORKER_PORTS)
        args = [
            self._ray(), "start", "--block", "--node-ip-address=127.0.0.1",
            f"--num-cpus={cpus}", f"--object-store-memory={self.object_store_bytes}",
            f"--node-manager-port={base}", f"--object-manager-port={base + 1}",
            f"--dashboard-agent-listen-port={base + 2}", f"--dashboard-agent-grpc-port={base + 3}",
            f"--runtime-env-agent-port={base + 4}", f"--metrics-export-port={base + 5}",
            f"--min-worker-port={base + PORTS_PER_NODE}",
            f"--max-worker-port={base + PORTS_PER_NODE + WORKER_PORTS - 1}",
            "--disable-usage-stats",
        ]  # fmt: skip
        if i == 0:
            args += [f"--port={base + 6}", "--head", "--include-dashboard=false",
                     f"--temp-dir={self.root / 'ray'}"]  # fmt: skip
            self.address = f"127.0.0.1:{base + 6}"
        else:
            args.append(f"--address={self.address}")
        log = self.root / f"node-{i}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.procs.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if STARTED in text:
                return
            if proc.poll() is not None:
                raise ClusterError(f"`ray start` for node {i} stopped: {text[-1500:]}")
            time.sleep(0.5)
        raise ClusterError(f"node {i} did not start within {timeout:g} s")

    def _members(self) -> list[tuple[int, str]]:
        """(pid, title) of every process of this cluster: each node's ``ray start`` began a
        session of its own, which its raylet and workers keep (workers get a process
        group of their own, not a session)."""
        sessions = {p.pid for p in self.procs}
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode()
                sid = os.getsid(int(entry))
            except (OSError, UnicodeDecodeError):
                continue
            if sid in sessions:
                found.append((int(entry), cmd))
        return found

    def worker_pids(self, name: str = "ray::_step") -> list[int]:
        """Processes of this cluster whose title is ``name`` (Ray names a worker after the
        task it runs)."""
        return [pid for pid, cmd in self._members() if cmd.startswith(name)]

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, the head last
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(60)
        for pid, _cmd in self._members():  # anything left, of these sessions only
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        self.procs.clear()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
