"""Where one request's time goes, in-process: the WSGI app called directly (no server, no
sockets), configured as ``authserver serve`` runs it (JSON access log, multi-process
metrics, rate limits on), on a temporary SQLite instance with the benchmark's data.

    .venv/bin/python bench/profile_exchange.py [--case exchange|first|cc|introspect]
        [--requests N] [--profiler pyinstrument|cprofile|none]

``none`` only times the loop (requests per second of CPU on one core, no server in front).
pyinstrument is used when installed (``.venv/bin/pip install pyinstrument``), else cProfile.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import fixtures  # noqa: E402
from token_endpoint import PATHS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default="exchange", choices=sorted(PATHS))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profiler", default="auto", choices=("auto", "pyinstrument", "cprofile", "none"))
    parser.add_argument("--postgres", default="", help="profile on this PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="authserver-profile-")
    upstream = fixtures.Upstream()
    url = fixtures.reset_postgres(args.postgres, "authserver_profile") if args.postgres \
        else f"sqlite:///{workdir}/profile.db"
    returning = fixtures.mint_id_tokens(upstream.signer(), fixtures.returning_subjects())
    instance = fixtures.prepare("profile", url, upstream, returning)
    if args.case == "first":
        subjects = [f"first-{i}" for i in range(args.requests + 200)]
        bodies = fixtures.exchange_bodies(instance, fixtures.mint_id_tokens(upstream.signer(), subjects))
    elif args.case == "exchange":
        bodies = fixtures.exchange_bodies(instance, returning)
    elif args.case == "cc":
        bodies = fixtures.client_credentials_body(instance)
    else:
        bodies = fixtures.introspection_bodies(instance)
    app = _production_app(instance, workdir)
    call = _caller(app, PATHS[args.case])
    warm = 200 if args.case == "first" else len(bodies)  # connectors, JWKS, keys, rows, usage memo
    for body in bodies[:warm]:
        call(body)
    bodies = bodies[warm:] if args.case == "first" else bodies
    run = lambda: [call(bodies[i % len(bodies)]) for i in range(args.requests)]  # noqa: E731
    profiler = args.profiler
    if profiler == "auto":
        profiler = "pyinstrument" if _has("pyinstrument") else "cprofile"
    started = time.process_time()
    if profiler == "pyinstrument":
        from pyinstrument import Profiler

        with Profiler(interval=0.0005) as p:
            run()
        print(p.output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL")), short_mode=False))
    elif profiler == "cprofile":
        import cProfile
        import pstats

        p = cProfile.Profile()
        p.runcall(run)
        order, lines = os.environ.get("PROFILE_SORT", "cumulative"), int(os.environ.get("PROFILE_LINES", "45"))
        pstats.Stats(p).sort_stats(order).print_stats(lines)
    else:
        _timed(call, bodies, args.requests, args.case)
        upstream.close()
        return
    cpu = time.process_time() - started
    print(f"{args.case}: {args.requests} requests, {args.requests / cpu:,.0f} per CPU second (under {profiler})")
    upstream.close()


def _timed(call, bodies: list[str], requests: int, case: str, batches: int = 7) -> None:
    """Batches of the loop, timed in CPU seconds; the best batch is the least disturbed by
    neighbours on a shared machine."""
    size, rates, offset = max(1, requests // batches), [], 0
    for _ in range(batches):
        started = time.process_time()
        for i in range(offset, offset + size):
            call(bodies[i % len(bodies)])
        offset += size
        rates.append(size / (time.process_time() - started))
    rates.sort()
    print(f"{case}: {requests} requests in {batches} batches: best {rates[-1]:,.0f}, median "
          f"{rates[len(rates) // 2]:,.0f} per CPU second (no profiler, no server)")


def _production_app(instance, workdir: str):
    instance_path = os.path.join(workdir, "instance")
    os.makedirs(instance_path)
    os.environ.update(instance.env(instance_path))
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="metrics-", dir=workdir))
    from authserver import create_app

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - the access log goes nowhere
    try:
        return create_app()
    finally:
        sys.stderr = stderr


def _caller(app, path: str):
    def call(body: str) -> None:
        data = body.encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH": str(len(data)), "HTTP_HOST": "127.0.0.1:8000",
                   "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
                   "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
                   "wsgi.version": (1, 0)}
        status = []
        chunks = app(environ, lambda s, h, e=None: status.append(s))
        body_out = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not status[0].startswith("200"):
            raise RuntimeError(f"{path}: {status[0]} {body_out[:300]!r}")

    return call


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
