"""Replicated serving on Ray Serve: N replicas of the HTTP app behind Serve's proxy.

Each replica builds the whole app (:func:`api.create_app`) from the same settings, so
each maps the published build of the same index directory (a path every node mounts)
and runs its own watcher: a new publish reaches every replica through the hot swap.
Ray is an optional extra (``pip install '.[ray]'``); this module needs it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from typing import Any

from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.settings import Settings

APP_NAME = "grounded-qa"
# Names the replica that answered, on every response served through Ray.
REPLICA_HEADER = "X-Replica"
# A replica's share of a CPU: Ray only counts it (the replica's threads use what they
# need), and two replicas plus the proxy fit on a 2-core node.
REPLICA_CPUS = 0.5


class ReplicaHeader:
    """ASGI middleware adding :data:`REPLICA_HEADER` to every HTTP response."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.header = (REPLICA_HEADER.lower().encode(), name.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, named)


def replica_name() -> str:
    """This process's name among the replicas: its host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@serve.ingress()
class QAReplica:
    """One replica of the HTTP app; the app is built in the replica, at its start."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __serve_build_asgi_app__(self) -> ASGIApp:
        """The app over the shared index directory (called once, in the replica)."""
        from api import create_app
        from service.logs import configure_logging

        configure_logging(self.settings.log_json)  # as ``qa serve``: one line a request
        app = create_app(self.settings)
        app.add_middleware(ReplicaHeader, name=replica_name())
        return app


def application(settings: Settings, replicas: int,
                num_cpus: float = REPLICA_CPUS) -> Application:
    """The Serve application: ``replicas`` copies of the app, each given ``settings``."""
    deployment = serve.deployment(QAReplica, name="qa", num_replicas=replicas,
                                  ray_actor_options={"num_cpus": num_cpus})
    return deployment.bind(settings)


def from_config(args: dict[str, Any]) -> Application:
    """The application for ``serve run`` / ``serve deploy`` with a config file
    (docs/serve.yaml): the ``QA_`` settings come from the application's
    ``runtime_env.env_vars``; ``args`` may give ``replicas`` and ``num_cpus``."""
    return application(Settings(), int(args.get("replicas", 2)),
                       float(args.get("num_cpus", REPLICA_CPUS)))


def start(settings: Settings, replicas: int, num_cpus: float = REPLICA_CPUS
          ) -> DeploymentHandle:
    """Start Serve's proxy on ``settings.host:port`` and deploy the application on the
    Ray cluster this process is connected to (``ray.init`` first); returns at once."""
    serve.start(http_options={"host": settings.host, "port": settings.port,
                              "keep_alive_timeout_s": max(1, round(settings.keep_alive_timeout))})
    return serve.run(application(settings, replicas, num_cpus), name=APP_NAME,
                     route_prefix="/")


class _Stopped(Exception):
    """SIGTERM arrived: stop as on Ctrl-C."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def run(settings: Settings, replicas: int, address: str | None = None) -> None:
    """``qa serve --ray``: connect to the cluster at ``address`` (else start a local
    one), serve until interrupted (Ctrl-C or SIGTERM), then remove the application."""
    import ray

    from index.distributed import connect

    connect(address, worker_logs=True)  # as the Ray build joins: checked, env passed on
    signal.signal(signal.SIGTERM, _stop)  # after ray.init, which sets its own
    try:
        start(settings, replicas)
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        if address:  # the cluster is shared: remove only our application
            serve.delete(APP_NAME)
        else:  # the local cluster was ours
            serve.shutdown()
        ray.shutdown()

