class InitiativeError(Exception):
    """A command the initiative's rules refuse; the message says why."""


class InitiativeNotFound(InitiativeError):
    pass


class UnknownInitiativeType(InitiativeError):
    pass


class InvalidTransition(InitiativeError):
    pass
