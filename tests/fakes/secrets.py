"""A secret store that keeps what it read, as powertools' cache does, until asked for a fresh read."""

from dataclasses import dataclass, field


@dataclass
class FakeSecrets:
    stored: dict[str, str] = field(default_factory=dict)  # what Secrets Manager holds now
    kept: dict[str, str] = field(default_factory=dict)  # what this environment read last
    reads: list[tuple[str, bool]] = field(default_factory=list)  # (arn, fresh) of each read

    def current(self, arn: str, *, fresh: bool = False) -> str:
        self.reads.append((arn, fresh))
        if fresh or arn not in self.kept:
            self.kept[arn] = self.stored[arn]
        return self.kept[arn]
