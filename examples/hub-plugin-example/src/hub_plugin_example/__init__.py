"""An example hub plugin: text node types and request signing, written against hub-sdk alone.

Declared in ``pyproject.toml`` as::

    [project.entry-points.hub]
    example = "hub_plugin_example"
"""

from __future__ import annotations

from hub_plugin_example.signing import Sign, SigningKey
from hub_plugin_example.text import Slugify, SlugifyV1, WordCount
from hub_sdk import CredentialType, NodeType, hookimpl

__all__ = ["Sign", "SigningKey", "Slugify", "SlugifyV1", "WordCount", "hub_credential_types", "hub_node_types"]


@hookimpl
def hub_node_types() -> list[type[NodeType]]:
    """The node types of this plugin, every version still supported."""
    return [SlugifyV1, Slugify, WordCount, Sign]


@hookimpl
def hub_credential_types() -> list[type[CredentialType]]:
    """The credential types of this plugin."""
    return [SigningKey]
