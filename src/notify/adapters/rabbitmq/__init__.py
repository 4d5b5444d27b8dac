"""RabbitMQ: publishing, the consumer of the worker, the topology (queues, dead letters), the DLQs."""
