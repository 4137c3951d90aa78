"""Whether a class a plugin offers is a well-formed node or credential type.

The hub runs these checks on every class a plugin's hooks return, and the
test kit runs them before it runs a node, so a class the hub would reject
fails its plugin's own tests with the same message.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import msgspec

from wirehub_sdk._credentials import CredentialType
from wirehub_sdk._node import NodeType, declared_types

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""Node-type and credential-type names: ``<plugin>.<thing>``, lowercase, dot-separated."""


class InvalidTypeError(TypeError):
    """A node or credential type offered by a plugin is malformed."""


def claimed_name(obj: object) -> str | None:
    """The ``name`` a (possibly malformed) class claims, if it is a string."""
    name = getattr(obj, "name", None) if isinstance(obj, type) else None
    return name if isinstance(name, str) else None


def _label(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_name(cls: type, what: str) -> str:
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidTypeError(
            f"{what} {_label(cls)} has name {name!r}; expected a lowercase namespaced name like 'acme.send_mail'"
        )
    return name


def _check_schema(cls: type, attribute: str, value: Any) -> None:
    try:
        msgspec.json.schema(value)
    except (TypeError, ValueError) as exc:
        first_line = str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
        raise InvalidTypeError(
            f"{_label(cls)}.{attribute} is not a type msgspec can convert and describe: {first_line}"
        ) from exc


def _check_declared_types(cls: type[NodeType], label: str) -> None:
    """The class attributes agree with the ``NodeType[...]`` arguments a type checker holds ``execute`` to."""
    for attribute, argument in declared_types(cls).items():
        value = getattr(cls, attribute)
        if value != argument:
            raise InvalidTypeError(
                f"node type {label}: {attribute} is {value!r} but its NodeType[...] base declares {argument!r}; "
                f"drop the {attribute} attribute"
            )


def check_node_type(obj: object) -> type[NodeType]:
    """Returns ``obj`` as a node-type class if it is well formed.

    Raises:
        InvalidTypeError: Naming what is wrong: not a ``NodeType`` subclass, a
            name that is not ``<plugin>.<action>``, a version that is not an
            integer >= 1, a ``Config`` that is not a msgspec Struct, a
            ``Config``, ``Input`` or ``Output`` attribute that disagrees with
            the ``NodeType[...]`` arguments, an ``execute`` that is missing or
            not ``async def``, or types without a JSON Schema.
    """
    if not (isinstance(obj, type) and issubclass(obj, NodeType)):
        raise InvalidTypeError(f"{obj!r} is not a subclass of wirehub_sdk.NodeType")
    name = _check_name(obj, "node type")
    version = getattr(obj, "version", None)
    if type(version) is not int or version < 1:
        raise InvalidTypeError(f"node type {name} has version {version!r}; expected an integer >= 1")
    label = f"{name} v{version}"
    _check_declared_types(obj, label)
    config = getattr(obj, "Config", None)
    if not (isinstance(config, type) and issubclass(config, msgspec.Struct)):
        raise InvalidTypeError(f"node type {label}: Config {config!r} is not a msgspec Struct class")
    if obj.execute is NodeType.execute:
        raise InvalidTypeError(f"node type {label} does not implement execute")
    if not inspect.iscoroutinefunction(obj.execute):
        raise InvalidTypeError(f"node type {label}: execute must be a coroutine function (async def)")
    credential_types = getattr(obj, "credential_types", ())
    if not (isinstance(credential_types, tuple) and all(isinstance(c, str) for c in credential_types)):
        raise InvalidTypeError(f"node type {label}: credential_types must be a tuple of names")
    if not isinstance(getattr(obj, "takes_default_input", True), bool):
        raise InvalidTypeError(f"node type {label}: takes_default_input must be True or False")
    for attribute in ("Config", "Input", "Output"):
        _check_schema(obj, attribute, getattr(obj, attribute))
    return obj


def check_credential_type(obj: object) -> type[CredentialType]:
    """Returns ``obj`` as a credential-type class if it is well formed.

    Raises:
        InvalidTypeError: Naming what is wrong: not a ``CredentialType``
            subclass, a malformed name, ``Fields`` not a msgspec Struct,
            ``secret_fields`` naming unknown fields, or ``apply`` missing.
    """
    if not (isinstance(obj, type) and issubclass(obj, CredentialType)):
        raise InvalidTypeError(f"{obj!r} is not a subclass of wirehub_sdk.CredentialType")
    name = _check_name(obj, "credential type")
    fields = getattr(obj, "Fields", None)
    if not (isinstance(fields, type) and issubclass(fields, msgspec.Struct)):
        raise InvalidTypeError(f"credential type {name}: Fields {fields!r} is not a msgspec Struct class")
    secret = obj.secret_fields
    if not (isinstance(secret, frozenset | set | tuple) and set(secret) <= set(fields.__struct_fields__)):
        raise InvalidTypeError(
            f"credential type {name}: secret_fields {secret!r} must name fields of "
            f"{fields.__qualname__} ({', '.join(fields.__struct_fields__)})"
        )
    if obj.apply is CredentialType.apply:
        raise InvalidTypeError(f"credential type {name} does not implement apply")
    _check_schema(obj, "Fields", fields)
    return obj
