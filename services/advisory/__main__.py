from services.advisory.app import create_app
from services.advisory.settings import AdvisorySettings
from shared.entrypoint import main

main("advisory", AdvisorySettings, create_app)
