"""Admin routes: users (a password never comes back), roles (built-ins fixed, custom ones from the catalogue),
memberships (effective on the next request) and workspaces (changed only with a global grant)."""

from __future__ import annotations

import uuid

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api

PASSWORD = "a long enough password"


async def test_users_are_created_listed_reset_and_deleted_without_a_password_ever_coming_back(api: Api) -> None:
    created = await api.client.post("/api/v1/users", json={"username": "ann", "password": PASSWORD}, headers=api.admin)
    assert created.status_code == 201
    user = created.json()
    assert set(user) == {"id", "username", "service", "disabled", "created_at", "updated_at", "memberships"}
    listed = await api.client.get("/api/v1/users", headers=api.admin)
    got = await api.client.get(f"/api/v1/users/{user['id']}", headers=api.admin)
    for response in (created, listed, got):
        assert PASSWORD not in response.text
        assert "argon2" not in response.text
    assert [entry["username"] for entry in listed.json()] == sorted([ADMIN[0], "ann"])
    admin = next(entry for entry in listed.json() if entry["username"] == ADMIN[0])
    assert admin["memberships"] == [
        {"id": admin["memberships"][0]["id"], "user_id": admin["id"], "workspace_id": None, "role": "admin"}
    ]

    assert (
        await api.client.post("/api/v1/users", json={"username": "ann", "password": PASSWORD}, headers=api.admin)
    ).status_code == 409
    short = await api.client.post("/api/v1/users", json={"username": "bob", "password": "short"}, headers=api.admin)
    assert short.status_code == 422
    assert short.json()["errors"][0]["pointer"] == "/password"
    bad_name = await api.client.post("/api/v1/users", json={"username": "a b", "password": PASSWORD}, headers=api.admin)
    assert bad_name.status_code == 400

    old = await api.login("ann", PASSWORD)
    reset = await api.client.patch(
        f"/api/v1/users/{user['id']}", json={"password": "another long password"}, headers=api.admin
    )
    assert reset.status_code == 200
    assert "another long password" not in reset.text
    assert (
        await api.client.post("/api/v1/auth/token", json={"username": "ann", "password": PASSWORD})
    ).status_code == 401
    assert (await api.client.get("/api/v1/workspaces", headers=old)).status_code == 401  # the reset ended its logins
    await api.login("ann", "another long password")

    me = admin["id"]
    assert (
        await api.client.patch(f"/api/v1/users/{me}", json={"disabled": True}, headers=api.admin)
    ).status_code == 409
    assert (await api.client.delete(f"/api/v1/users/{me}", headers=api.admin)).status_code == 409
    assert (await api.client.delete(f"/api/v1/users/{user['id']}", headers=api.admin)).status_code == 204
    assert (await api.client.get(f"/api/v1/users/{user['id']}", headers=api.admin)).status_code == 404
    assert (await api.client.get(f"/api/v1/users/{uuid.uuid4()}", headers=api.admin)).status_code == 404


async def test_built_in_roles_are_fixed_and_custom_ones_use_catalogue_permissions(api: Api) -> None:
    roles = (await api.client.get("/api/v1/roles", headers=api.admin)).json()
    builtin = {role["name"]: role for role in roles if role["builtin"]}
    assert set(builtin) == {"admin", "editor", "operator", "viewer", "auditor"}
    viewer_id = builtin["viewer"]["id"]
    assert (
        await api.client.patch(f"/api/v1/roles/{viewer_id}", json={"permissions": []}, headers=api.admin)
    ).status_code == 409
    assert (await api.client.delete(f"/api/v1/roles/{viewer_id}", headers=api.admin)).status_code == 409

    unknown = await api.client.post(
        "/api/v1/roles",
        json={"name": "runner", "permissions": ["execution:start", "root:everything"]},
        headers=api.admin,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/permissions/1"
    created = await api.client.post(
        "/api/v1/roles", json={"name": "runner", "permissions": ["workflow:read", "execution:start"]}, headers=api.admin
    )
    assert created.status_code == 201
    assert created.json()["builtin"] is False
    role_id = created.json()["id"]
    assert (
        await api.client.post("/api/v1/roles", json={"name": "runner", "permissions": []}, headers=api.admin)
    ).status_code == 409

    holder = await api.client.post("/api/v1/users", json={"username": "rita", "password": PASSWORD}, headers=api.admin)
    grant = {"user_id": holder.json()["id"], "role": "runner", "workspace_id": str(DEFAULT_WORKSPACE)}
    granted = await api.client.post("/api/v1/memberships", json=grant, headers=api.admin)
    assert granted.status_code == 201
    rita = await api.login("rita", PASSWORD)
    workflows = f"/api/v1/workspaces/{DEFAULT_WORKSPACE}/workflows"
    assert (await api.client.get(workflows, headers=rita)).status_code == 200
    updated = await api.client.patch(
        f"/api/v1/roles/{role_id}", json={"permissions": ["execution:start"]}, headers=api.admin
    )
    assert updated.json()["permissions"] == ["execution:start"]
    assert (await api.client.get(workflows, headers=rita)).status_code == 403  # the change holds at once

    assert (await api.client.delete(f"/api/v1/roles/{role_id}", headers=api.admin)).status_code == 409  # in use
    revoked = await api.client.delete(f"/api/v1/memberships/{granted.json()['id']}", headers=api.admin)
    assert revoked.status_code == 204
    assert (await api.client.get(workflows, headers=rita)).status_code == 404  # no longer a member
    assert (await api.client.delete(f"/api/v1/roles/{role_id}", headers=api.admin)).status_code == 204


async def test_a_grant_replaces_the_role_held_there_and_needs_a_known_role_user_and_workspace(api: Api) -> None:
    user = (
        await api.client.post("/api/v1/users", json={"username": "max", "password": PASSWORD}, headers=api.admin)
    ).json()
    where = str(DEFAULT_WORKSPACE)
    first = await api.client.post(
        "/api/v1/memberships", json={"user_id": user["id"], "role": "viewer", "workspace_id": where}, headers=api.admin
    )
    second = await api.client.post(
        "/api/v1/memberships", json={"user_id": user["id"], "role": "editor", "workspace_id": where}, headers=api.admin
    )
    assert (first.status_code, second.status_code) == (201, 200)
    listed = (await api.client.get(f"/api/v1/memberships?user_id={user['id']}", headers=api.admin)).json()
    assert [(entry["role"], entry["workspace_id"]) for entry in listed] == [("editor", where)]
    cases = [
        ({"user_id": user["id"], "role": "nope", "workspace_id": where}, 422),
        ({"user_id": str(uuid.uuid4()), "role": "viewer", "workspace_id": where}, 404),
        ({"user_id": user["id"], "role": "viewer", "workspace_id": str(uuid.uuid4())}, 404),
        ({"user_id": user["id"], "role": "viewer"}, 400),  # a global grant is never implied
    ]
    for body, expected in cases:
        assert (await api.client.post("/api/v1/memberships", json=body, headers=api.admin)).status_code == expected, (
            body
        )


async def test_workspaces_are_created_and_changed_with_a_global_grant_only(api: Api) -> None:
    body = {"name": "payments", "allowed_node_types": ["core.*", "acme.charge"]}
    created = await api.client.post("/api/v1/workspaces", json=body, headers=api.admin)
    assert created.status_code == 201
    workspace = created.json()
    assert workspace["allowed_node_types"] == ["core.*", "acme.charge"]
    url = f"/api/v1/workspaces/{workspace['id']}"
    assert (await api.client.post("/api/v1/workspaces", json=body, headers=api.admin)).status_code == 409
    bad = await api.client.post(
        "/api/v1/workspaces", json={"name": "x", "allowed_node_types": ["../etc"]}, headers=api.admin
    )
    assert bad.status_code == 400

    local_admin = await api.user("admin", workspace_id=uuid.UUID(workspace["id"]))
    outsider = await api.user("viewer")
    assert (await api.client.get(url, headers=local_admin)).json()["name"] == "payments"
    assert (await api.client.get(url, headers=outsider)).status_code == 404
    assert (await api.client.patch(url, json={"allowed_node_types": None}, headers=local_admin)).status_code == 403
    assert (await api.client.post("/api/v1/workspaces", json={"name": "mine"}, headers=local_admin)).status_code == 403

    changed = await api.client.patch(url, json={"description": "money", "allowed_node_types": None}, headers=api.admin)
    assert changed.status_code == 200
    assert (changed.json()["description"], changed.json()["allowed_node_types"]) == ("money", None)
    archived = await api.client.patch(url, json={"archived": True}, headers=api.admin)
    assert archived.json()["archived"] is True
    assert archived.json()["description"] == "money"


async def test_every_admin_route_is_refused_to_a_user_without_the_permission(api: Api) -> None:
    editor = await api.user("editor", workspace_id=None)
    some = uuid.uuid4()
    routes = [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("GET", f"/api/v1/users/{some}"),
        ("PATCH", f"/api/v1/users/{some}"),
        ("DELETE", f"/api/v1/users/{some}"),
        ("GET", f"/api/v1/users/{some}/api-keys"),
        ("POST", f"/api/v1/users/{some}/api-keys"),
        ("DELETE", f"/api/v1/users/{some}/api-keys/{some}"),
        ("GET", "/api/v1/roles"),
        ("POST", "/api/v1/roles"),
        ("PATCH", f"/api/v1/roles/{some}"),
        ("DELETE", f"/api/v1/roles/{some}"),
        ("GET", "/api/v1/memberships"),
        ("POST", "/api/v1/memberships"),
        ("DELETE", f"/api/v1/memberships/{some}"),
        ("GET", "/api/v1/audit"),
        ("POST", "/api/v1/workspaces"),
    ]
    for method, path in routes:
        response = await api.client.request(
            method, path, headers=editor, json={} if method in ("POST", "PATCH") else None
        )
        assert response.status_code == 403, (method, path, response.status_code)
