"""The suppression list's addresses: one spelling per address, so that a bounce and a send meet."""

from notify.channels import Channel


def normal_address(channel: Channel | str, address: str) -> str:
    """E-mail addresses in lower case (mailbox case is ignored in practice); phone numbers and push
    tokens as they are."""
    return address.strip().lower() if str(channel) == Channel.EMAIL else address.strip()
