from hoso.runner import run_service
from review.bootstrap import build_app
from review.settings import ReviewSettings

if __name__ == "__main__":
    settings = ReviewSettings()
    run_service(settings, lambda role: build_app(role, settings))
