from __future__ import annotations

from collections.abc import Sequence


class InitiativeError(Exception):
    """A command the initiative's rules refuse; the message says why."""


class InitiativeNotFound(InitiativeError):
    pass


class ReportNotFound(InitiativeError):
    pass


class UnknownInitiativeType(InitiativeError):
    pass


class RuleViolation(InitiativeError):
    """The command is allowed now, but what it carries breaks a rule (e.g. no reasons)."""


class SupportConflict(InitiativeError):
    """A resident supports twice, or withdraws support they never gave."""


class NotAllowedForCaller(InitiativeError):
    """The caller is not the one who may do this (e.g. not an initiator of the draft)."""


class InvalidTransition(InitiativeError):
    """The action is not allowed in the current state; says which actions are."""

    def __init__(
        self, message: str, *, current: str | None = None, allowed: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = list(allowed)
