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


class NotAllowed(AdvisoryError):
    pass


class RequestClosed(AdvisoryError):
    """The request or round no longer takes advice (completed, closed, withdrawn)."""


class NoDecision(AdvisoryError):
    """A vote cannot be closed: no quorum, or a tie nobody breaks."""
