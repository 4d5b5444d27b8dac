"""Adapters: the ports implemented against PostgreSQL, RabbitMQ, SQS, SES and SNS."""
