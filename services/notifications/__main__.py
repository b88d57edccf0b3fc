from fastapi import FastAPI

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from shared.entrypoint import main
from shared.settings import ServiceSettings


def serve(settings: ServiceSettings) -> FastAPI:
    assert isinstance(settings, NotificationsSettings)
    return create_app(settings)


main("notifications", NotificationsSettings, serve)
