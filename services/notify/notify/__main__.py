from hoso.runner import run_service
from notify.bootstrap import build_app
from notify.settings import NotifySettings

if __name__ == "__main__":
    settings = NotifySettings()
    run_service(settings, lambda role: build_app(role, settings))
