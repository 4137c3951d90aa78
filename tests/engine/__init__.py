"""Tests of the pure engine: definitions, plans, expressions and the execution state machine."""
