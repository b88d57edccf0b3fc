class NotificationError(Exception):
    """A request or event the notification rules refuse; the message says why."""


class ContactNotFound(NotificationError):
    pass
