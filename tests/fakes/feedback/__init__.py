"""Fakes of the feedback capability's ports (as adapters/postgres/feedback/ implements them)."""
