class AdvisoryError(Exception):
    """A command the advisory rules refuse; the message says why."""


class NotFound(AdvisoryError):
    pass


class NotAMember(AdvisoryError):
    pass


class AlreadyAdvised(AdvisoryError):
    pass


class AlreadyRequested(AdvisoryError):
    pass
