from services.initiatives.app import create_app
from services.initiatives.settings import InitiativesSettings
from shared.entrypoint import main

main("initiatives", InitiativesSettings, create_app)
