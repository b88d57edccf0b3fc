class BudgetError(Exception):
    """A command the budgets' rules refuse; the message says why."""


class BudgetNotFound(BudgetError):
    pass


class BudgetAlreadyExists(BudgetError):
    pass


class InvalidAllocationRequest(BudgetError):
    """An approved decision that cannot be turned into an allocation request at all."""


class AllocationNotFound(BudgetError):
    """No money is reserved for the initiative a payment is for."""


class InvalidField(BudgetError):
    """Input the rules refuse; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(BudgetError):
    """Not allowed in the current state; says which state and which actions are allowed."""

    def __init__(self, message: str, *, current: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class NotAllowedForCaller(BudgetError):
    """The action is allowed now, but not to this caller."""


class AlternativeBudgetNotFound(BudgetError):
    pass
