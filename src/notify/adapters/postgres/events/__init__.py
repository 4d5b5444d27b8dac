"""The events capability's repositories: events and their rows, fan-out steps, topics, the
directory, cancelling."""
