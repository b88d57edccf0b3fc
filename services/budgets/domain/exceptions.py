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
