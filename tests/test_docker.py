"""The image for real: built, started, asked the seed question, rebuilt into a volume.

Runs with ``make test-docker`` (``QA_TEST_DOCKER=1``) where a Docker engine answers; the
build takes minutes, so ``make test`` leaves it out. Prints the image size and the
seconds from ``docker run`` to a 200 from ``/readyz``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ROOT, free_port, write_stories

pytestmark = [
    pytest.mark.docker,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(os.environ.get("QA_TEST_DOCKER") != "1",
                       reason="image tests run with `make test-docker` (QA_TEST_DOCKER=1)"),
]

TAG = "grounded-qa:test"
SEED_QUESTION = "How many people will the returning planes carry?"


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    """Run a docker command; its stdout."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None or subprocess.run(
            ["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("QA_TEST_DOCKER=1 but no Docker engine answers `docker info`")
    started = time.monotonic()
    done = subprocess.run([str(ROOT / "docker" / "build.sh"), TAG], capture_output=True,
                          text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    size = int(docker("image", "inspect", "--format", "{{.Size}}", TAG))
    _report(f"image {TAG}: {size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f} s")
    return TAG


def _report(line: str) -> None:
    """Print a measurement and append it to QA_DOCKER_REPORT when set."""
    print(line)
    if os.environ.get("QA_DOCKER_REPORT"):
        with open(os.environ["QA_DOCKER_REPORT"], "a") as out:
            out.write(line + "\n")


class Container:
    """A detached container serving on a free loopback port; removed on exit."""

    def __init__(self, image: str, *run_args: str) -> None:
        self.port = free_port()
        self.name = f"qa-test-{uuid.uuid4().hex[:8]}"
        self.url = f"http://127.0.0.1:{self.port}"
        self.started = time.monotonic()
        docker("run", "-d", "--name", self.name, "-p", f"127.0.0.1:{self.port}:8000",
               *run_args, image)

    def wait_ready(self, timeout: float = 120) -> float:
        """Seconds from ``docker run`` until ``/readyz`` answered 200."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready in {timeout} s: {docker('logs', self.name)[-2000:]}")

    def ask(self, question: str) -> dict:
        response = httpx.post(self.url + "/api/chat", timeout=30,
                              json={"messages": [{"role": "user", "content": question}]})
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        docker("rm", "-f", self.name, check=False)


@pytest.fixture
def container_factory() -> Iterator:
    made: list[Container] = []

    def make(image: str, *run_args: str) -> Container:
        made.append(Container(image, *run_args))
        return made[-1]

    yield make
    for container in made:
        container.close()


def check_cited_exactly(container: Container, body: dict) -> None:
    """Every citation and passage is the article's own text at its offsets."""
    assert body["grounded"] is True and body["citations"], body
    for part, key in [(c, "quote") for c in body["citations"]] + \
            [(p, "text") for p in body["passages"]]:
        article = httpx.get(f"{container.url}/api/articles/{part['article_id']}").json()
        assert article["text"][part["start"]:part["end"]] == part[key]


def test_the_image_serves_the_seed_index(image, container_factory):
    user = docker("image", "inspect", "--format", "{{.Config.User}}", image)
    assert user and user not in ("0", "root")
    container = container_factory(image)
    seconds = container.wait_ready()
    _report(f"container ready (/readyz 200) {seconds:.1f} s after docker run")
    body = container.ask(SEED_QUESTION)
    assert "380" in body["answer"]
    check_cited_exactly(container, body)
    # The image's HEALTHCHECK command passes inside the running container.
    health = json.loads(docker("image", "inspect", "--format", "{{json .Config.Healthcheck}}",
                               image))
    assert docker("exec", container.name, *health["Test"][1:], check=False) == ""
    # No torch in the serving image.
    probe = docker("exec", container.name, "python", "-c",
                   "import importlib.util as u; print(u.find_spec('torch') is None)")
    assert probe == "True"


def test_an_index_volume_is_rebuilt_by_the_image(image, container_factory, tmp_path):
    articles = write_stories(tmp_path / "articles")
    articles.chmod(0o755)
    for file in articles.iterdir():
        file.chmod(0o644)
    volume = f"qa-test-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", volume)
    try:
        mounts = ["-v", f"{volume}:/data/index", "-v", f"{articles}:/data/articles:ro"]
        # A named volume starts as a copy of the image's seed index; the build replaces it.
        out = docker("run", "--rm", *mounts, image, "qa", "index", "build", "/data/articles",
                     timeout=600)
        assert "added" in out
        docker("run", "--rm", *mounts, image, "qa", "index", "verify", timeout=300)
        container = container_factory(image, *mounts)
        container.wait_ready()
        body = container.ask("How many residents were evacuated from the lower districts?")
        assert "1,200" in body["answer"]
        assert {c["article_id"] for c in body["citations"]} == {"flood"}
        check_cited_exactly(container, body)
    finally:
        docker("volume", "rm", "-f", volume, check=False)
