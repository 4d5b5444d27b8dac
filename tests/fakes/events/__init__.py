"""Fakes of the events capability's ports (as adapters/postgres/events/ implements them)."""
