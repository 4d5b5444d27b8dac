"""Fakes of the delivery capability's ports (as adapters/postgres/delivery/ implements them)."""
