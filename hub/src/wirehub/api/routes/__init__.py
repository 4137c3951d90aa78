"""The API's route handlers, one module per resource."""

from wirehub.api.routes import auth, executions, health, live, workflows, workspaces

ROUTES = [
    health.live,
    health.ready,
    auth.token,
    workspaces.list_workspaces,
    workflows.create_workflow,
    workflows.list_workflows,
    workflows.get_workflow,
    executions.start_execution,
    executions.get_execution,
    live.create_ticket,
    live.live,
]
"""Every route handler of the API, registered by ``create_app``."""

__all__ = ["ROUTES"]
