"""Hard limits of the definition language and of expression evaluation."""

MAX_DEFINITION_BYTES = 1_000_000
MAX_STEPS = 2_000
MAX_NEEDS = 1_000
MAX_FAN_OUT = 1_000
"""How many steps may wait directly on one step."""
MAX_EXPRESSION_LENGTH = 4_096
MAX_EXPRESSION_DEPTH = 32
"""How deeply an expression's syntax tree may nest."""
MAX_EXPRESSIONS_PER_STEP = 200
MAX_TIMEOUT_SECONDS = 31 * 24 * 3600.0
MAX_ATTEMPTS = 100
MAX_RETRY_DELAY_SECONDS = 24 * 3600.0
MAX_BACKOFF_RATE = 10.0
MAX_EVAL_STEPS = 100_000
"""Interpreter steps one evaluation may take before it fails."""
MAX_EVAL_SECONDS = 0.5
MAX_VALUE_ITEMS = 100_000
"""Items (list elements, object members, string kilobytes) one evaluation may produce."""
MAX_STRING_LENGTH = 1_000_000
MAX_OUTPUT_BYTES = 1_000_000
