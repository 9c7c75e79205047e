from hoso.runner import run_service
from intake.bootstrap import build_app
from intake.settings import IntakeSettings

if __name__ == "__main__":
    settings = IntakeSettings()
    run_service(settings, lambda role: build_app(role, settings))
