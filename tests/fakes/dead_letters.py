"""Dead-letter queues in memory: messages per queue, redriven into `redriven`; `down` is an outage."""

from dataclasses import dataclass, field

from notify.errors import BrokerUnavailable


@dataclass
class FakeDeadLetters:
    messages: dict[str, list[bytes]] = field(default_factory=dict)  # main queue -> its DLQ's messages
    redriven: dict[str, list[bytes]] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)  # queue -> messages it still holds (else none)
    down: bool = False

    def backlog(self) -> dict[str, int]:
        if self.down:
            raise BrokerUnavailable("fake broker is down")
        return dict(self.held)

    def depths(self) -> dict[str, int]:
        if self.down:
            raise BrokerUnavailable("fake broker is down")
        return {f"{queue}-dlq": len(held) for queue, held in sorted(self.messages.items())}

    def redrive(self, queue: str) -> int:
        if self.down:
            raise BrokerUnavailable("fake broker is down")
        moved = self.messages.pop(queue, [])
        self.redriven.setdefault(queue, []).extend(moved)
        return len(moved)
