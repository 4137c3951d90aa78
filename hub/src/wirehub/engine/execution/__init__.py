"""Execution: state, events, commands, and the pure state machine that relates them."""
