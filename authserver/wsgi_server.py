"""Running the app under gunicorn from ``authserver serve``."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _GunicornApp(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from authserver import create_app

        return create_app()


def run_gunicorn(bind: str, workers: int, threads: int = 1) -> None:
    options = {
        "bind": bind, "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "graceful_timeout": 30, "timeout": 30, "keepalive": 5,
        "accesslog": None, "preload_app": False,
    }
    _GunicornApp(options).run()
