"""What the fuzz (``test_api_fuzz.py``) found, pinned as plain tests: ids out of the database's range are
refused with 422 naming the field, a 405 names every method of the path, and every route declares
its error answers with the error body's schema."""

from __future__ import annotations

import pytest
from service_support import World

from benzokit.service.api import MAX_ID


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/admin/audit?patient_id=-42105524087659918604007112704&limit=368",
        f"/api/v1/admin/audit?patient_id={MAX_ID + 1}",
        "/api/v1/admin/audit?patient_id=0",
    ],
)
def test_audit_patient_id_out_of_range_is_refused(module_world: World, url: str) -> None:
    response = module_world.sign_in("admin").get(url)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["patient_id"]


@pytest.mark.parametrize("patient_id", ["0", "-1", str(MAX_ID + 1), "9" * 40])
def test_patient_id_out_of_range_is_refused(module_world: World, patient_id: str) -> None:
    response = module_world.sign_in("dr.rivera").get(f"/api/v1/patients/{patient_id}/today")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "patient_id"


def test_the_largest_id_is_not_found(module_world: World) -> None:
    response = module_world.sign_in("dr.rivera").get(f"/api/v1/patients/{MAX_ID}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("PUT", "/api/v1/session", "DELETE, POST"),
        ("PATCH", "/api/v1/patients/1/doses", "GET, POST"),
        ("DELETE", "/api/v1/me", "GET"),
    ],
)
def test_method_not_allowed_names_every_method(
    module_world: World, method: str, url: str, allowed: str
) -> None:
    response = module_world.client().request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


def test_every_operation_declares_its_errors_with_the_error_body(module_world: World) -> None:
    document = module_world.app.openapi()
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            errors = {code for code in answers if code.startswith(("4", "5"))}
            assert errors, (method, path)
            if path != "/api/v1/session":
                assert "401" in errors, (method, path)
            if method != "get":
                assert "403" in errors or path == "/api/v1/session", (method, path)
            for code in errors:
                schema = answers[code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": error_ref}, (method, path, code)
    detail = document["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"message", "field", "value", "allowed", "fields"} <= set(detail)


def test_audit_page_with_an_id_out_of_range_is_an_error_page(module_world: World) -> None:
    admin = module_world.sign_in("admin")
    response = admin.get("/admin/audit?patient_id=-42105524087659918604007112704")
    assert response.status_code == 422
    assert "a record id from 1 to" in response.text
