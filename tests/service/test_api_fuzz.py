"""The API's published contract is the code's: a schema-driven fuzz (schemathesis) of every operation,
as each role (anonymous, patient, clinician, another clinician, administrator).

Requests are generated from ``/api/openapi.json`` (valid ones, invalid ones and the boundary cases of
schemathesis' coverage phase, such as an undeclared method) and sent to the app in-process, signed in
as the role, with its session's CSRF header. A case fails on

- any 5xx (``not_a_server_error``),
- a status the operation does not declare (``status_code_conformance``), a response whose body,
  content type or headers break the declared schema,
- an undeclared method not answered 405 with an ``Allow`` header (``unsupported_method``),
- a request valid by the schema refused by the request validation (422 listing ``fields``): declared
  constraints looser than the enforced ones (:func:`valid_request_not_refused`). A schema-valid
  request the *use case* refuses (a dose not in the plan, an unknown scale: 422 naming one ``field``,
  what was given and what is allowed) is the service judging clinical content, which no schema can
  say; it is allowed.

Not checked: that every request the schema forbids is refused (``negative_data_rejection``). The
service parses leniently where a page form needs it: a number sent as text, ``false`` for 0, a day as
a count of days since 1970, spaces around a text (removed). The schema states the strict form.

Bounded: hypothesis derandomized (a fixed seed), a fixed number of examples per operation
(``FUZZ_EXAMPLES``), so that the whole test takes a couple of minutes on two cores. Marked ``slow``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from service_support import Clock, World, build_world

from benzokit.service import api

pytestmark = pytest.mark.slow

ROLES = ("anonymous", "alex", "dr.rivera", "dr.other", "admin")
FUZZ_EXAMPLES = int(os.environ.get("BENZOKIT_FUZZ_EXAMPLES", "5"))
NO_LIMIT = 10**6  # the fuzz signs in often and sends wrong passwords: no sign-in limit here


@dataclass
class Role:
    """The fuzzed app as one role: its world and the session's cookie and CSRF token (None:
    anonymous). A fuzzed sign-out ends the session; :meth:`renew` signs in again."""

    world: World
    username: str | None
    cookies: dict[str, str]
    csrf: str

    def renew(self) -> None:
        if self.username is None:
            return
        signed = self.world.sign_in(self.username)
        self.cookies = dict(signed.client.cookies)
        self.csrf = signed.csrf


@pytest.fixture(scope="module", params=ROLES)
def fuzz_role(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clinic_template: Path
) -> Iterator[Role]:
    world = build_world(
        tmp_path_factory.mktemp("fuzz") / "fuzz.db",
        Clock(),
        template=clinic_template,
        login_failures_allowed=NO_LIMIT,
        login_failures_per_client=NO_LIMIT,
    )
    username = None if request.param == "anonymous" else str(request.param)
    role = Role(world, username, {}, "")
    role.renew()
    try:
        yield role
    finally:
        world.close()


def published_contract() -> dict[str, Any]:
    """The OpenAPI document of the API routes, made without a database (at collection time)."""
    app = FastAPI(title="benzokit monitoring service", openapi_url="/api/openapi.json")
    app.include_router(api.router)
    return app.openapi()


def valid_request_not_refused(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """A request the schema allows is not refused by the request validation (its 422 lists
    ``fields``); a use case's refusal names one field and is allowed (see the module docstring)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    error = response.json().get("error", {})
    if "fields" in error:
        raise AssertionError(f"a request valid by the schema was refused by validation: {error}")
    return None


schema = schemathesis.openapi.from_dict(published_contract())


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_contract(case: Any, fuzz_role: Role) -> None:
    headers = {"X-CSRF-Token": fuzz_role.csrf} if fuzz_role.csrf else {}
    response = case.call_and_validate(
        app=fuzz_role.world.app,
        headers=headers,
        cookies=fuzz_role.cookies,
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,  # replaced by valid_request_not_refused
            schemathesis.checks.negative_data_rejection,  # lax parsing accepts more: see above
        ],
        additional_checks=[valid_request_not_refused],
    )
    if case.method == "DELETE" and case.path == "/api/v1/session" and response.status_code == 204:
        fuzz_role.renew()
