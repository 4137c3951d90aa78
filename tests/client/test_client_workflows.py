"""``Client``'s workflow and node-type calls against the real app served over TCP (embedded hub)."""

from __future__ import annotations

import json

import pytest

from tests.client.conftest import TYPED, chain
from wirehub_sdk.client import Client, ClientError, ConflictError, InvalidRequestError, NotFoundError

DESCRIBED = chain("described", 1) | {"description": "first"}


def test_an_update_is_the_next_version_and_an_execution_keeps_the_version_it_started_on(client: Client) -> None:
    workflow = client.push(chain("evolving", 1))
    first = client.start(workflow.id)

    updated = client.update_workflow("evolving", chain("evolving", 2))

    assert (updated.id, updated.latest_version) == (workflow.id, 2)
    assert client.wait(first.id, timeout=20).workflow_version_id == client.workflow_version(workflow.id, 1).id
    second = client.wait(client.start(workflow.id).id, timeout=20)
    assert second.workflow_version_id == client.workflow_version(workflow.id, 2).id
    assert sorted({run.step_id for run in second.steps}) == ["s0", "s1"]


def test_an_update_with_the_latest_definition_stores_nothing(client: Client) -> None:
    workflow = client.push(chain("steady", 1))
    again = client.update_workflow(workflow.id, chain("steady", 1))
    assert again.latest_version == 1
    assert [v.version for v in client.workflow_versions(workflow.id).items] == [1]


def test_a_refused_update_saves_nothing_and_points_at_the_problem(client: Client) -> None:
    workflow = client.push(chain("guarded", 1))
    with pytest.raises(InvalidRequestError) as refused:
        client.update_workflow(workflow.id, {"name": "guarded", "steps": [{"id": "a", "type": "core.nope"}]})
    assert refused.value.code == "invalid-definition"
    assert any(item.pointer == "/steps/0/type" for item in refused.value.errors), refused.value.errors
    assert client.workflow(workflow.id).latest_version == 1


def test_a_merge_patch_changes_one_field_of_the_latest_definition(client: Client) -> None:
    workflow = client.push(DESCRIBED)

    patched = client.patch_workflow("described", {"description": "second"})

    assert patched.latest_version == 2
    definition = client.workflow_version(workflow.id, 2).definition
    assert definition is not None
    assert definition["description"] == "second"
    assert [step["id"] for step in definition["steps"]] == ["s0"]  # the rest is the latest version's
    removed = client.patch_workflow(workflow.id, {"description": None})
    assert "description" not in (client.workflow_version(workflow.id, removed.latest_version).definition or {})


def test_versions_page_newest_first_and_each_one_has_its_pinned_definition(client: Client) -> None:
    workflow = client.push(chain("versioned", 1))
    client.update_workflow(workflow.id, chain("versioned", 2))
    client.update_workflow(workflow.id, chain("versioned", 3))

    page = client.workflow_versions("versioned", limit=2)
    rest = client.workflow_versions("versioned", cursor=page.next)

    assert [v.version for v in page.items] == [3, 2]
    assert [v.version for v in rest.items] == [1]
    assert rest.next is None
    assert all(v.definition is None for v in page.items)  # a list leaves definitions out
    assert len({v.content_hash for v in [*page.items, *rest.items]}) == 3
    second = client.workflow_version(workflow.id, 2)
    assert (second.id, second.version, second.content_hash) == (page.items[1].id, 2, page.items[1].content_hash)
    assert second.definition is not None
    assert [step["type_version"] for step in second.definition["steps"]] == [1, 1]
    with pytest.raises(NotFoundError):
        client.workflow_version(workflow.id, 9)


def test_validation_returns_the_pinned_definition_and_saves_nothing(client: Client) -> None:
    checked = client.validate_workflow(TYPED)
    assert checked.valid
    assert checked.definition["steps"][0]["type_version"] == 1
    assert client.workflows().items == []


def test_validation_of_an_invalid_definition_points_at_each_problem(client: Client) -> None:
    broken = {"name": "x", "steps": [{"id": "a", "type": "core.transform", "needs": ["ghost"], "config": {}}]}
    with pytest.raises(InvalidRequestError) as refused:
        client.validate_workflow(broken)
    assert refused.value.status == 422
    assert any(item.pointer == "/steps/0/needs/0" for item in refused.value.errors), refused.value.errors


def test_an_archived_workflow_starts_nothing_and_lists_only_when_asked_until_restored(client: Client) -> None:
    workflow = client.push(chain("retired", 1))

    archived = client.archive_workflow("retired")

    assert archived.archived
    assert client.workflows().items == []
    assert [w.id for w in client.workflows(archived=True).items] == [workflow.id]
    with pytest.raises(ConflictError) as refused:
        client.start(workflow.id)
    assert refused.value.code == "workflow-archived"
    with pytest.raises(ConflictError):
        client.update_workflow(workflow.id, chain("retired", 2))
    assert client.archive_workflow(workflow.id).archived  # twice: a no-op

    restored = client.restore_workflow("retired")  # found by name although archived

    assert not restored.archived
    assert client.wait(client.start("retired").id, timeout=20).succeeded


def test_workflows_come_by_name_a_page_at_a_time_and_the_iterator_walks_every_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("c-third", "a-first", "b-second"):
        client.push(chain(name, 1))

    page = client.workflows(limit=2)
    rest = client.workflows(limit=2, cursor=page.next)

    assert [w.name for w in page.items] == ["a-first", "b-second"]
    assert [w.name for w in rest.items] == ["c-third"]
    assert rest.next is None
    monkeypatch.setattr("wirehub_sdk.client._sync.PAGE_SIZE", 1)
    assert [w.name for w in client.iter_workflows()] == ["a-first", "b-second", "c-third"]


def test_a_name_shared_by_two_workflows_in_use_needs_an_id(client: Client) -> None:
    one = client.push(chain("twin", 1))
    client.push(chain("twin", 1))
    with pytest.raises(ClientError, match="2 workflows are named 'twin'"):
        client.workflow("twin")
    client.archive_workflow(one.id)
    assert client.workflow("twin").id != one.id  # the one in use wins over the archived one


def test_the_node_type_catalogue_has_each_type_with_its_schemas_and_plugin(client: Client) -> None:
    catalogue = {node.name: node for node in client.node_types()}
    transform = catalogue["core.transform"]
    assert transform.latest_version == transform.versions[-1].version
    assert "expression" in json.dumps(transform.versions[-1].config_schema)  # its config's one field
    assert transform.plugin is not None
    assert transform.plugin.healthy
    assert "test.flaky" in catalogue

    delay = client.node_type("core.delay")
    assert delay == catalogue["core.delay"]
    with pytest.raises(NotFoundError) as missing:
        client.node_type("core.nothing")
    assert "core.nothing" in str(missing.value)
    with pytest.raises(NotFoundError):
        client.node_type("../workspaces")  # one path segment, whatever the name holds
