"""Plugins: the pluggy manager, entry-point discovery and the node-type registry.

Nothing here loads at import time: ``load_registry()`` builds the registry
of the installed plugins on first use; tests use ``build_registry(...)`` with
explicit plugin objects.
"""

from wirehub.plugins.manager import HubPluginManager, get_plugin_manager
from wirehub.plugins.registry import NodeTypeInfo, Registry, build_registry, clear_registry_cache, load_registry
from wirehub.plugins.report import NodeTypeRef, PluginReport, PluginState

__all__ = [
    "HubPluginManager",
    "NodeTypeInfo",
    "NodeTypeRef",
    "PluginReport",
    "PluginState",
    "Registry",
    "build_registry",
    "clear_registry_cache",
    "get_plugin_manager",
    "load_registry",
]
