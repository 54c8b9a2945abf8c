"""The OpenAPI document matches the server: schemathesis generates requests from it and
runs all of its checks against a real server (a bounded number of cases per operation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import ADMIN_KEY, LiveServer, build, serve, write_stories


@pytest.fixture(scope="module")
def live(tmp_path_factory, hashing) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("openapi")
    build(tmp / "ix", hashing, write_stories(tmp / "src"))
    with serve(tmp / "ix", hashing, admin_key=ADMIN_KEY, reload_interval=0) as server:
        server.wait_ready()
        yield server


def test_the_server_conforms_to_its_openapi_document(live):
    # Each operation in turn (schemathesis' pytest fixture loader does not run under this
    # pytest; its strategies and checks are the same).
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case) -> None:
            case.call_and_validate()

        conforms()
