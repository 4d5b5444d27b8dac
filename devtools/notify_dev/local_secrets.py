"""The local stack's secrets in LocalStack's Secrets Manager, so that it reads them as a deployed stage
does (notify.adapters.secrets): the database's credentials (an RDS-shaped secret), the RabbitMQ URL and
the unsubscribe links' key. Made when missing; their values never change here except by a test that
rotates one (tests/e2e/test_secrets.py).

    python -m notify_dev.local_secrets     # prints the template parameters that name them, a line each
"""

import json

from notify.settings import DEVELOPMENT_UNSUBSCRIBE_SECRET
from notify_dev.endpoints import RABBITMQ_URL, aws

# The local PostgreSQL trusts every password: the one here only has to travel the real path.
LOCAL_SECRETS = {
    "DatabaseSecretArn": ("notify/local/database", json.dumps({"username": "postgres", "password": "local"})),
    "RabbitmqSecretArn": ("notify/local/rabbitmq", RABBITMQ_URL),
    "UnsubscribeSecretArn": ("notify/local/unsubscribe", DEVELOPMENT_UNSUBSCRIBE_SECRET),
}


def ensure_local_secrets(rabbitmq_host: str = "127.0.0.1") -> dict[str, str]:
    """Each local secret's ARN by its template parameter, the secret made first where it is missing."""
    secrets = aws("secretsmanager")
    arns = {}
    for parameter, (name, value) in LOCAL_SECRETS.items():
        try:
            arns[parameter] = secrets.describe_secret(SecretId=name)["ARN"]
        except secrets.exceptions.ResourceNotFoundException:
            made = value.replace("127.0.0.1", rabbitmq_host) if parameter == "RabbitmqSecretArn" else value
            arns[parameter] = secrets.create_secret(Name=name, SecretString=made)["ARN"]
    return arns


if __name__ == "__main__":
    import sys

    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    print("\n".join(f"{parameter}={arn}" for parameter, arn in ensure_local_secrets(host).items()))
