"""The project's development tools: the event generator, the local stack's client code (its endpoints,
LocalStack's SES/SNS stores, JSON over HTTP, waits with a deadline), `make up`'s steps around the deploy,
the demo and its measurements, and scratch databases and queues for tests and benchmarks.

It is installed into .venv by `make venv` and is not part of the `notify` package: the SAM layer, which
ships `src/`, does not contain it (tests/e2e/test_layer.py reads the built layer to make sure).
"""
