"""An example hub plugin: text node types and request signing, written against wirehub-sdk alone.

Declared in ``pyproject.toml`` as::

    [project.entry-points.wirehub]
    example = "wirehub_plugin_example"
"""

from __future__ import annotations

from wirehub_plugin_example.signing import Sign, SigningKey
from wirehub_plugin_example.text import Slugify, SlugifyV1, WordCount
from wirehub_sdk import CredentialType, NodeType, hookimpl

__all__ = ["Sign", "SigningKey", "Slugify", "SlugifyV1", "WordCount", "wirehub_credential_types", "wirehub_node_types"]


@hookimpl
def wirehub_node_types() -> list[type[NodeType]]:
    """The node types of this plugin, every version still supported."""
    return [SlugifyV1, Slugify, WordCount, Sign]


@hookimpl
def wirehub_credential_types() -> list[type[CredentialType]]:
    """The credential types of this plugin."""
    return [SigningKey]
