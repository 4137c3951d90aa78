"""The hub's built-in node types, loaded through the same entry point a third party uses."""
