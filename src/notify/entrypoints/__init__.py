"""Entry points: translate an outside trigger (HTTP, a queue batch, a timer) into one domain call."""
