"""``qa serve --ray``: replicas on Ray Serve pick up a publish with no request failing,
and every answer comes whole from one build (the old or the new), never a mix."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from index.reader import IndexReader
from service.settings import Settings
from tests.conftest import ROOT, STORIES, build, free_port, write_stories

ray = pytest.importorskip("ray", reason="needs the ray extra: pip install '.[ray]'")
from ray import serve  # noqa: E402

from service import ray_serve  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.timeout(400)]

SECONDS = float(os.environ.get("QA_TEST_RAY_SECONDS", "60"))
CLIENTS = 4
REPLICAS = 2
RELOAD_INTERVAL = 1.0
# After a publish, the time a replica may still answer from the old build: its next poll
# plus opening the new build, on a busy 2-core machine.
SWAP_MARGIN = RELOAD_INTERVAL + 5.0
QUESTIONS = [
    "How many residents were evacuated from Elmswick?",
    "How many council seats did the Green Party win in Harlow?",
    "How many loaves does the Dunmore bakery bake a day?",
    "Who is the mayor of Elmswick?",
    "What was the turnout of the council election?",
    "What is the weather on Mars?",
]


def changed(stories: list[dict]) -> list[dict]:
    """The same articles with new text: shifted offsets and changed numbers, so a quote
    checked against the wrong build does not match."""
    return [{**s, "text": "Updated report. " + s["text"].replace("1,200", "1,450")
             .replace("14 of the 40", "17 of the 40").replace("800 loaves", "950 loaves")}
            for s in stories]


def texts_of(build_path: Path) -> dict[str, str]:
    """Every article's text in a build, by article id."""
    reader = IndexReader(build_path)
    try:
        return {a.id: a.text for _, a in reader.store.articles()}
    finally:
        reader.close()


@dataclass
class Seen:
    """One answered request: when it was sent, which replica answered, and the answer."""

    sent: float
    replica: str
    body: dict

    @property
    def version(self) -> str:
        return self.body.get("index_version", "")


@dataclass
class Tally:
    answers: list[Seen] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def check(body: dict, texts: dict[str, dict[str, str]]) -> str | None:
    """Why an answer is not whole from the build it names, or None."""
    version = body.get("index_version")
    if version not in texts:
        return f"unknown build {version!r}"
    build_texts = texts[version]
    if body["grounded"] != bool(body["citations"]):
        return f"grounded={body['grounded']} with {len(body['citations'])} citations"
    if not body["grounded"] and not body.get("reason"):
        return "an abstention without a reason"
    for c in body["citations"]:
        if build_texts.get(c["article_id"], "")[c["start"]:c["end"]] != c["quote"]:
            return f"citation {c['article_id']}[{c['start']}:{c['end']}] is not in {version}"
    for p in body["passages"]:
        if build_texts.get(p["article_id"], "")[p["start"]:p["end"]] != p["text"]:
            return f"passage {p['article_id']}[{p['start']}:{p['end']}] is not in {version}"
    return None


def ask_until(url: str, stop: float, tally: Tally, offset: int) -> None:
    """A client asking in a loop until ``stop`` (monotonic), tallying every answer."""
    with httpx.Client(base_url=url, timeout=60) as client:
        n = offset
        while time.monotonic() < stop:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            sent = time.monotonic()
            try:
                response = client.post("/api/chat", json={"messages": [{"role": "user",
                                                               "content": question}]})
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code != 200:
                with tally.lock:
                    tally.failures.append(f"{response.status_code}: {response.text[:200]}")
                continue
            seen = Seen(sent, response.headers.get(ray_serve.REPLICA_HEADER, "?"),
                        response.json())
            with tally.lock:
                tally.answers.append(seen)


def wait_for_replicas(url: str, count: int, timeout: float = 180) -> set[str]:
    """Wait until ``count`` different replicas say they are ready."""
    ready: set[str] = set()
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                response = client.get("/readyz")
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            if response.status_code == 200:
                ready.add(response.headers[ray_serve.REPLICA_HEADER])
                if len(ready) >= count:
                    return ready
            else:
                time.sleep(0.2)
    raise AssertionError(f"only {len(ready)} of {count} replicas ready after {timeout} s")


def test_replicas_swap_to_a_publish_with_no_failed_request(tmp_path, hashing):
    index_dir = tmp_path / "index"
    build_a = build(index_dir, hashing, write_stories(tmp_path / "a", STORIES)).build_id
    port = free_port()
    settings = Settings(index_dir=index_dir, data_dir=tmp_path / "data", model="hashing-256",
                        host="127.0.0.1", port=port, reload_interval=RELOAD_INTERVAL)
    url = f"http://127.0.0.1:{port}"
    # Ray's own short temp dir (its sockets' paths have a length limit); the GCS and the
    # other ports are chosen free by Ray, away from any other cluster on this machine.
    ray_tmp = tempfile.mkdtemp(prefix="rs", dir="/tmp")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=ray_tmp,
             logging_level="warning", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        ray_serve.start(settings, REPLICAS)
        replicas = wait_for_replicas(url, REPLICAS)
        tally = Tally()
        began = time.monotonic()
        stop = began + SECONDS
        clients = [threading.Thread(target=ask_until, args=(url, stop, tally, i))
                   for i in range(CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(SECONDS / 2)
        build_b = build(index_dir, hashing, write_stories(tmp_path / "b", changed(STORIES))
                        ).build_id
        published = time.monotonic()
        for client in clients:
            client.join(timeout=SECONDS + 120)
        assert not any(client.is_alive() for client in clients)
    finally:
        serve.shutdown()
        ray.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)

    texts = {b: texts_of(index_dir / "builds" / b) for b in (build_a, build_b)}
    mixed = [(a.replica, problem) for a in tally.answers if (problem := check(a.body, texts))]
    answers = tally.answers
    per_build = Counter(a.version for a in answers)
    per_replica = Counter(a.replica for a in answers)
    b_by = {a.replica for a in answers if a.version == build_b}
    grounded = Counter(a.version for a in answers if a.body["grounded"])
    by_pair = Counter((a.replica, "A" if a.version == build_a else "B") for a in answers)
    last_a = max((a.sent for a in answers if a.version == build_a), default=began) - published
    late_a = [a for a in answers if a.version == build_a and a.sent > published + SWAP_MARGIN]
    print(f"\n{len(answers)} answers in {SECONDS:.0f} s, {len(tally.failures)} failed, "
          f"{len(mixed)} mixed; per build {dict(per_build)} (grounded {dict(grounded)}); "
          f"per replica {dict(per_replica)} ({dict(by_pair)}); "
          f"publish at {published - began:.1f} s, last A asked {last_a:+.2f} s after it")
    assert build_a != build_b
    assert not tally.failures, tally.failures[:5]
    assert not mixed, mixed[:5]
    assert set(per_build) <= {build_a, build_b}
    assert grounded[build_a] and grounded[build_b]  # citations were checked on both
    assert set(per_replica) == replicas
    assert b_by == replicas, f"build B seen only by {b_by} of {replicas}"
    assert not late_a, f"{len(late_a)} answers from build A more than {SWAP_MARGIN} s " \
                       "after the publish"


def test_the_documented_serve_config_builds_the_application(monkeypatch):
    import yaml
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema.model_validate(
        yaml.safe_load((ROOT / "docs" / "serve.yaml").read_text()))
    (app,) = config.applications
    module, name = app.import_path.split(":")
    assert (module, name) == ("service.ray_serve", "from_config")
    for key, value in app.runtime_env["env_vars"].items():
        monkeypatch.setenv(key, value)
    deployment = ray_serve.from_config(app.args)._bound_deployment
    assert deployment.num_replicas == 2
    assert deployment.ray_actor_options["num_cpus"] == 0.5
    settings = deployment.init_args[0]
    assert settings.index_dir == Path(app.runtime_env["env_vars"]["QA_INDEX_DIR"])
