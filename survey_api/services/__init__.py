"""Business rules: validation beyond the schema, state machines, permissions."""
