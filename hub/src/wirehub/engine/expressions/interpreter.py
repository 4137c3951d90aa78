"""A JMESPath tree interpreter that counts its steps, watches the clock and sizes what it builds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from jmespath.visitor import Options, TreeInterpreter

from wirehub.engine.expressions.bounds import Budget, bounded_equal
from wirehub.engine.expressions.functions import HubFunctions

_CLOCK_EVERY = 64
"""The interpreter looks at the clock once per this many steps."""


class BoundedInterpreter(TreeInterpreter):
    """Evaluates a parsed expression within a ``Budget``.

    Every node visited is a step. Equality compares node by node on the same
    budget; flattening sizes its result before building it; functions charge
    what they create. Going over any bound raises ``ExpressionError``.

    Args:
        budget: The evaluation's budget, shared with the functions.
    """

    _methods: ClassVar[dict[str, Callable[..., Any]]] = {}

    def __init__(self, budget: Budget) -> None:
        super().__init__(Options(custom_functions=HubFunctions(budget)))
        self.budget = budget

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = _visit_methods(cls)

    def visit(self, node: Any, value: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Visits one node, charging a step (and now and then looking at the clock)."""
        budget = self.budget
        budget.steps = steps = budget.steps + 1
        if steps > budget.max_steps or not steps % _CLOCK_EVERY:
            budget.fail_if_spent()
        method = self._methods.get(node["type"])
        if method is None:
            self.default_visit(node)
        return method(self, node, value)

    def visit_comparator(self, node: Any, value: Any) -> Any:
        """``==`` and ``!=`` compare on the budget; ordering compares numbers and strings only, as in JMESPath."""
        operator = node["value"]
        children = node["children"]
        left = self.visit(children[0], value)
        right = self.visit(children[1], value)
        if operator == "eq":
            return bounded_equal(left, right, self.budget)
        if operator == "ne":
            return not bounded_equal(left, right, self.budget)
        if not (_comparable(left) and _comparable(right)):
            return None
        return self.COMPARATOR_FUNC[operator](left, right)

    def visit_flatten(self, node: Any, value: Any) -> Any:
        """Flattens one level, after checking the result's size against the budget."""
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        self.budget.charge_items(sum(len(element) if isinstance(element, list) else 1 for element in base))
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged


def _comparable(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float or kind is str or (isinstance(value, int | float | str) and kind is not bool)


def _visit_methods(cls: type[TreeInterpreter]) -> dict[str, Callable[..., Any]]:
    """``{node type: visit method}`` of an interpreter class, looked up once rather than per evaluation."""
    return {name.removeprefix("visit_"): getattr(cls, name) for name in dir(cls) if name.startswith("visit_")}


BoundedInterpreter._methods = _visit_methods(BoundedInterpreter)
