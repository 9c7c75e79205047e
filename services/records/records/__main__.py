from hoso.runner import run_service
from records.bootstrap import build_app
from records.settings import RecordsSettings

if __name__ == "__main__":
    settings = RecordsSettings()
    run_service(settings, lambda role: build_app(role, settings))
