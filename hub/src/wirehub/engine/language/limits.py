"""Hard limits of the definition language and of expression evaluation.

``docs/definition-language.md`` lists each one; a test keeps that table true.
"""

MAX_DEFINITION_BYTES = 1_000_000
"""Size of a definition as UTF-8 JSON."""
MAX_DEFINITION_DEPTH = 64
"""How deeply arrays and objects may nest in a definition (configs included)."""
MAX_INPUT_BYTES = 1_000_000
"""Size of an execution's input as UTF-8 JSON."""
MAX_INPUT_DEPTH = 64
"""How deeply arrays and objects may nest in an execution's input."""
MAX_INPUT_SCHEMA_STEPS = 500_000
"""Keyword evaluations one check of an input against its ``input_schema`` may take (a reference counts 10)."""
MAX_STEPS = 2_000
"""Steps in one workflow."""
MAX_NEEDS = 1_000
"""Entries in one step's ``needs``."""
MAX_FAN_OUT = 1_000
"""How many steps may wait directly on one step."""
MAX_EXPRESSION_LENGTH = 4_096
"""Characters in one expression."""
MAX_EXPRESSION_DEPTH = 32
"""How deeply an expression's syntax tree (and its brackets) may nest."""
MAX_EXPRESSIONS_PER_STEP = 200
"""Expressions in one step: its input mapping and its config together."""
MAX_TIMEOUT_SECONDS = 31 * 24 * 3600.0
"""Longest timeout of a step or a workflow."""
DEFAULT_QUEUE_TIMEOUT_SECONDS = 3600.0
"""How long a handed-back attempt of a step without ``queue_timeout_seconds`` may wait for a worker to claim it."""
MAX_ATTEMPTS = 100
"""Most attempts a retry policy may allow."""
MAX_RETRY_DELAY_SECONDS = 24 * 3600.0
"""Longest delay between two attempts."""
MAX_BACKOFF_RATE = 10.0
"""Largest factor by which a retry delay may grow."""
MAX_EVAL_STEPS = 100_000
"""Interpreter steps one evaluation may take before it fails."""
MAX_EVAL_SECONDS = 0.5
"""Wall-clock time one evaluation may take."""
MAX_VALUE_ITEMS = 100_000
"""Items (list elements, object members, string kilobytes of UTF-8) one evaluation may produce."""
MAX_STRING_LENGTH = 1_000_000
"""UTF-8 bytes in one string an evaluation creates (an astral character is 4, as in memory)."""
MAX_OUTPUT_BYTES = 1_000_000
"""Size of an evaluation's result as UTF-8 JSON."""
MAX_TRANSITION_EVAL_STEPS = 2_000_000
"""Interpreter steps all the evaluations of one state transition may take together (input mappings and output)."""
MAX_STEP_OUTPUT_BYTES = 1_048_576
"""Size of one step's output as compact JSON (1 MiB); a larger one fails the step (``output.too_large``)."""
MAX_EXECUTION_OUTPUT_BYTES = 64 * 1_048_576
"""Size of all the outputs one execution retains, as compact JSON (64 MiB); past it a step fails
(``output.execution_too_large``)."""
MAX_STEP_INPUT_BYTES = 16 * 1_048_576
"""Size of a step's default input (its sources' outputs, as JSON); a larger one fails the step (``input.too_large``)."""
