from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from shared.entrypoint import main

main("notifications", NotificationsSettings, create_app)
