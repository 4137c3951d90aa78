"""The API's route handlers, one module per resource."""

from wirehub.api.routes import (
    api_keys,
    audit_log,
    auth,
    executions,
    health,
    memberships,
    roles,
    users,
    workflows,
    workspaces,
)

ROUTES = [
    health.live,
    health.ready,
    auth.token,
    auth.refresh_token,
    auth.logout,
    workspaces.list_workspaces,
    workspaces.create_workspace,
    workspaces.get_workspace,
    workspaces.update_workspace,
    users.create_user_route,
    users.list_users,
    users.get_user,
    users.update_user,
    users.delete_user,
    api_keys.create_key,
    api_keys.list_keys,
    api_keys.revoke_key,
    roles.list_roles,
    roles.create_role,
    roles.update_role,
    roles.delete_role,
    memberships.grant_role,
    memberships.list_memberships,
    memberships.revoke_role,
    audit_log.read_audit_log,
    workflows.create_workflow,
    workflows.list_workflows,
    workflows.get_workflow,
    executions.start_execution,
    executions.get_execution,
]
"""Every route handler of the API, registered by ``create_app``."""

__all__ = ["ROUTES"]
