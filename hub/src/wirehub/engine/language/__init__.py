"""The definition language: the model, its limits, its published schema, reading documents, pinning."""
