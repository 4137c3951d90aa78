"""Validation of definitions: every problem at once, each with a JSON pointer."""
