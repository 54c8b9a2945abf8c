"""A local Ray cluster of separate node processes: a head and worker nodes, each a
``ray start --block`` process on this machine, as on a real cluster (used by the Ray
build benchmark and tests)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env(token: str, **extra: str) -> dict[str, str]:
    """This process's environment for a node or a driver of the cluster: its own auth
    token (Ray authenticates every client; the default token file is shared by every
    cluster of the machine), no usage stats, the model offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, **extra}
    env.pop("QA_RAY_ADDRESS", None)
    return env


@contextlib.contextmanager
def local_cluster(workers: int = 1, cpus_per_node: int = 1,
                  **extra_env: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Start a head and ``workers`` worker nodes on free ports with a temporary
    directory of their own; yields (address, the environment a driver needs) and stops
    every node's process group at the end."""
    token = secrets.token_hex(32)
    env = cluster_env(token, **extra_env)
    temp = tempfile.mkdtemp(prefix="rc", dir="/tmp")  # short: unix socket paths
    port = free_port()
    common = [f"--num-cpus={cpus_per_node}", "--node-ip-address=127.0.0.1",
              "--disable-usage-stats", "--block"]
    nodes = [_start([RAY, "start", "--head", f"--port={port}", "--include-dashboard=false",
                     f"--temp-dir={temp}", f"--ray-client-server-port={free_port()}",
                     *common], env)]
    address = f"127.0.0.1:{port}"
    try:
        wait_for_nodes(address, 1, env)
        for _ in range(workers):
            nodes.append(_start([RAY, "start", f"--address={address}", *common], env))
        wait_for_nodes(address, 1 + workers, env)
        yield address, env
    finally:
        stop(nodes)
        shutil.rmtree(temp, ignore_errors=True)


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_for_nodes(address: str, n: int, env: dict[str, str], timeout: float = 120.0) -> None:
    """Wait until the cluster at ``address`` has ``n`` live nodes."""
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False); "
             "print(sum(1 for x in ray.nodes() if x['Alive']))")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              text=True, timeout=60)
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(n)]:
            return
        time.sleep(1.0)
    raise RuntimeError(f"the Ray cluster at {address} did not reach {n} nodes")


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop each process group: SIGTERM to all, then SIGKILL to what is left (a group
    killed whole leaves no Ray worker behind)."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
