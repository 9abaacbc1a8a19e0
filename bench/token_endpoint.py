"""Benchmark of the token endpoint. One command: ``.venv/bin/python bench/token_endpoint.py``
(``--quick`` for a smoke run). See bench/README.md."""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
ISSUER = "http://auth.bench"
SECRET = "bench-secret-key-" + "x" * 40
TX = "urn:ietf:params:oauth:grant-type:token-exchange"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- setup ---------------------------------------------------------------------------------


def prepare(db_url: str) -> dict:
    """Schema, realm, chat backend, the app's backend client; returns what the load needs."""
    os.environ.update(AUTHSERVER_SECRET_KEY=SECRET, AUTHSERVER_SQLALCHEMY_DATABASE_URI=db_url,
                      AUTHSERVER_ISSUER_BASE_URL=ISSUER)
    from flask_migrate import upgrade

    from authserver import create_app
    from authserver.extensions import db
    from authserver.registry.realms import ensure_realm
    from tests.factories import AppBackend, make_backend, make_client

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": db_url, "ISSUER_BASE_URL": ISSUER,
                      "TESTING": True})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        ensure_realm("default")
    make_backend(app)
    backend = AppBackend(app, idp_name="app")
    service = make_client(app, client_id="service", auth_method="client_secret_post",
                          grant_types=["client_credentials"], audiences=["chat-api"], scopes="chat:read")
    with app.app_context():
        db.engine.dispose()
    return {"client_id": backend.client_id, "secret": backend.secret,
            "key": backend.key.as_dict(private=True), "service_secret": service["client_secret"],
            "public_jwk": backend.key.as_dict(private=False)}


def reset_postgres(url: str, schema: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


# --- servers -------------------------------------------------------------------------------


def start_server(kind: str, workers: int, env: dict, port: int, app: str = "authserver") -> subprocess.Popen:
    full_env = {**os.environ, **env, "AUTHSERVER_LOG_LEVEL": "WARNING", "AUTHSERVER_TOKEN_RATE_LIMIT": "0"}
    bind = f"127.0.0.1:{port}"
    if app == "authserver":
        server, threads = {"gunicorn-sync": ("gunicorn", 1), "gunicorn-gthread": ("gunicorn", 4),
                           "granian": ("granian", 1)}[kind]
        cmd = [f"{BIN}/authserver", "serve", "--bind", bind, "--workers", str(workers),
               "--server", server, "--threads", str(threads)]
    else:  # the minimal Flask ceiling app, same server settings
        cmd = [f"{BIN}/gunicorn", "-b", bind, "-w", str(workers), "--keep-alive", "5",
               "--chdir", os.path.join(ROOT, "bench"), "minimal_app:create_app()"]
        if kind == "gunicorn-gthread":
            cmd += ["-k", "gthread", "--threads", "4"]
        elif kind == "granian":
            cmd = [f"{BIN}/granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers), "--factory", "--working-dir", os.path.join(ROOT, "bench"),
                   "minimal_app:create_app"]
    process = subprocess.Popen(cmd, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.5)
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server {cmd} did not start")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def rss_per_worker_mb(process: subprocess.Popen) -> float:
    out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-g", str(process.pid)], capture_output=True,
                         text=True).stdout.split()
    rows = [(int(out[i]), int(out[i + 1]), int(out[i + 2])) for i in range(0, len(out), 3)]
    workers = [rss for pid, ppid, rss in rows if pid != process.pid and ppid != 1] or [r for _, _, r in rows]
    return max(workers) / 1024


# --- load ----------------------------------------------------------------------------------


def _forms(kind: str, setup: dict, count: int) -> list[bytes]:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    if kind == "client_credentials":
        body = urlencode({"grant_type": "client_credentials", "client_id": "service",
                          "client_secret": setup["service_secret"], "audience": "chat-api"}).encode()
        return [body] * count
    key = ECKey.import_key(setup["key"])
    now = int(time.time())
    forms = []
    for i in range(count):
        assertion = jwt.encode({"alg": "ES256", "kid": "k1"}, {
            "iss": setup["client_id"], "sub": f"user-{i % 500}", "aud": f"{ISSUER}/realms/default",
            "iat": now, "exp": now + 120, "jti": uuid.uuid4().hex}, key, algorithms=["ES256"])
        data = {"grant_type": TX, "client_id": setup["client_id"], "client_secret": setup["secret"],
                "subject_token": assertion, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "audience": "chat-api"}
        if kind == "minimal":
            data = {"subject_token": assertion}
        forms.append(urlencode(data).encode())
    return forms


def _load_process(port, path, forms, connections, seconds, queue):
    latencies, errors = [], [0]
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    index = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Connection": "keep-alive"}
        local = []
        while time.monotonic() < stop_at:
            with lock:
                i = index[0]
                index[0] += 1
            if i >= len(forms):
                break
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=forms[i], headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                    continue  # only successful requests count towards requests/s and latency
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((latencies, errors[0], time.monotonic() - started))


def drive(port: int, path: str, forms: list[bytes], connections: int, seconds: float,
          processes: int = 2) -> dict:
    queue = mp.Queue()
    share = len(forms) // processes
    procs = [mp.Process(target=_load_process, args=(port, path, forms[i * share:(i + 1) * share],
                                                   connections // processes, seconds, queue))
             for i in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    elapsed = max(r[2] for r in results)
    errors = sum(r[1] for r in results)
    if not latencies:
        return {"rps": 0, "p50": 0, "p99": 0, "errors": errors}
    return {"rps": len(latencies) / elapsed, "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000, "errors": errors}


# --- ceilings ------------------------------------------------------------------------------


def raw_crypto_per_second(setup: dict, seconds: float) -> float:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    forms = _forms("minimal", setup, 2000)
    tokens = [f.decode().split("=", 1)[1] for f in forms]
    public, signing = ECKey.import_key(setup["public_jwk"]), ECKey.generate_key("P-256")
    count, stop = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop:
        claims = jwt.decode(tokens[count % len(tokens)], public, algorithms=["ES256"]).claims
        jwt.encode({"alg": "ES256"}, {"sub": claims["sub"], "jti": uuid.uuid4().hex}, signing, algorithms=["ES256"])
        count += 1
    return count / (time.perf_counter() - started)


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short, fewer cases")
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL URL ('' to skip)")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    seconds = 3 if args.quick else 8
    cores = os.cpu_count() or 1
    workdir = tempfile.mkdtemp(prefix="authserver-bench-")
    print(f"machine: {cores} cores, {os.uname().machine}, {_cpu_model()}; python {sys.version.split()[0]}")
    print(f"load: {args.connections} keep-alive connections from 2 load processes, {seconds} s per case "
          "(the load generator shares the machine)")
    databases = [("sqlite", f"sqlite:///{workdir}/bench.db")]
    if args.postgres:
        try:
            databases.append(("postgresql", reset_postgres(args.postgres, "authserver_bench")))
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL skipped: {exc.__class__.__name__}")
    servers = ["granian", "gunicorn-sync"] if args.quick else ["granian", "gunicorn-sync", "gunicorn-gthread"]
    worker_counts = [cores] if args.quick else [1, cores]
    try:
        for db_name, db_url in databases:
            setup = prepare(db_url)
            crypto = raw_crypto_per_second(setup, 2 if args.quick else 4)
            print(f"\n== {db_name}: raw crypto of one exchange (ES256 verify + ES256 sign), one core: "
                  f"{crypto:,.0f}/s")
            env = {"AUTHSERVER_SQLALCHEMY_DATABASE_URI": db_url, "AUTHSERVER_SECRET_KEY": SECRET,
                   "AUTHSERVER_ISSUER_BASE_URL": ISSUER, "AUTHSERVER_INSTANCE_PATH": workdir,
                   "MINIMAL_DATABASE_URL": db_url, "MINIMAL_PUBLIC_JWK": json.dumps(setup["public_jwk"])}
            for workers in worker_counts:
                for server in servers:
                    _run_cases(server, workers, env, setup, args.connections, seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_cases(server, workers, env, setup, connections, seconds) -> None:
    size = int(6000 * seconds)
    port = free_port()
    process = start_server(server, workers, env, port, app="minimal")
    try:
        ceiling = drive(port, "/token", _forms("minimal", setup, size), connections, seconds)
    finally:
        stop_server(process)
    print(f"-- {server}, {workers} worker(s): minimal Flask ceiling {ceiling['rps']:,.0f} req/s "
          f"p50 {ceiling['p50']:.1f} ms p99 {ceiling['p99']:.1f} ms")
    port = free_port()
    process = start_server(server, workers, env, port)
    try:
        for case in ("backend_assertion", "client_credentials"):
            result = drive(port, "/realms/default/token", _forms(case, setup, size), connections, seconds)
            ratio = result["rps"] / ceiling["rps"] if ceiling["rps"] else 0
            print(f"   {case:<20} {result['rps']:8,.0f} req/s  p50 {result['p50']:6.1f} ms  "
                  f"p99 {result['p99']:6.1f} ms  errors {result['errors']}  "
                  f"RSS/worker {rss_per_worker_mb(process):.0f} MB  = {ratio:.2f}x ceiling")
    finally:
        stop_server(process)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


if __name__ == "__main__":
    main()
