"""The node-type catalogue over HTTP, and a database integrity error as a 409 problem."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, post
from litestar.testing import AsyncTestClient
from sqlalchemy import Column, Integer, MetaData, Table, insert
from sqlalchemy.ext.asyncio import create_async_engine

from tests.api.conftest import Api
from wirehub.api.problems import exception_handlers


async def test_the_catalogue_lists_each_type_with_versions_schemas_and_its_plugin(api: Api) -> None:
    viewer = await api.user("viewer")
    listed = await api.client.get("/api/v1/node-types", headers=viewer)
    assert listed.status_code == 200, listed.text
    by_name = {node_type["name"]: node_type for node_type in listed.json()}
    assert list(by_name) == sorted(by_name)
    transform = by_name["core.transform"]
    assert transform["latest_version"] == transform["versions"][-1]["version"]
    assert transform["plugin"]["name"] == "wirehub_core.core"  # registered in code by the test registry
    assert transform["plugin"]["healthy"] is True
    version = transform["versions"][0]
    assert version["config_schema"]["$ref"].startswith("#/$defs/")  # msgspec's JSON Schema of its Config
    assert {"input_schema", "output_schema", "credential_types", "title", "description"} <= set(version)
    assert "test.flaky" in by_name

    one = await api.client.get("/api/v1/node-types/core.transform", headers=viewer)
    assert one.json() == transform
    missing = await api.client.get("/api/v1/node-types/core.nope", headers=viewer)
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")


async def test_the_catalogue_needs_node_read_somewhere(api: Api) -> None:
    nobody = await api.user(None)
    assert (await api.client.get("/api/v1/node-types", headers=nobody)).status_code == 403
    assert (await api.client.get("/api/v1/node-types")).status_code == 401


async def test_an_integrity_error_in_a_write_is_a_409_problem_without_sql(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'unique.db'}")
    table = Table("names", MetaData(), Column("id", Integer, primary_key=True))
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)

    @post("/names", opt={"exclude_from_auth": True})
    async def add_twice() -> None:
        async with engine.begin() as connection:
            await connection.execute(insert(table).values(id=1))
            await connection.execute(insert(table).values(id=1))

    app = Litestar([add_twice], exception_handlers=exception_handlers())
    async with AsyncTestClient(app) as client:
        response = await client.post("/names")
    await engine.dispose()
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "conflict"
    assert "INSERT" not in response.text
    assert "UNIQUE" not in response.text
