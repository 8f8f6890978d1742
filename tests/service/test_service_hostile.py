"""Hostile requests: schemathesis generates requests from the OpenAPI document, valid and
invalid, as the operator and as a firm. Every response is a client error or success (never a
5xx) and conforms to the document: status code, content type, headers and body schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import OP  # noqa: E402
from .world import propose, setup  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
#: Examples per operation, mode and party: 31 operations x 2 x 2 x 10 > 1,000 requests.
EXAMPLES = 10


@pytest.mark.slow
def test_generated_requests_meet_the_document(client):
    w = setup(client)
    propose(client, w)
    client.app.state.planner.plan("hostile test")
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    parties = {"operator": OP, "firm": w["firms"]["Borealis"][1]}
    sent = 0
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 25
    def run(op, mode, headers) -> int:
        count = 0

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode))
        def call(case):
            nonlocal count
            case.call_and_validate(headers=headers, checks=CHECKS)
            count += 1

        try:
            call()
        except Unsatisfiable:
            # nothing to get wrong: an operation with no parameters and no body
            assert mode is GenerationMode.NEGATIVE
        return count

    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in parties.values():
                sent += run(op, mode, headers)
    print(f"schemathesis: {sent} requests over {len(operations)} operations")
    assert sent >= 1000
