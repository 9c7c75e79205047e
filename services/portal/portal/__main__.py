from hoso.runner import run_service
from portal.bootstrap import build_app
from portal.settings import PortalSettings

if __name__ == "__main__":
    settings = PortalSettings()
    run_service(settings, lambda _role: build_app(settings))
