"""The token endpoint benchmark, side by side with node-oidc-provider.

    .venv/bin/python bench/token_endpoint.py            # 3 rounds of 8 s per case (~15 min)
    .venv/bin/python bench/token_endpoint.py --quick    # 1 round of 3 s, SQLite only (~2 min)

It starts node-oidc-provider (client credentials, ES256 JWT access tokens for one resource
indicator) from the npm package the tests install, and ``authserver serve`` on SQLite (a
temporary instance) and on PostgreSQL (``--postgres``, a fresh schema), under the default
server and the alternative; pins the servers to one core and wrk to another; and drives each
case with wrk (1 thread, 32 keep-alive connections) in interleaved rounds after a warm-up.
Per case it prints requests/s (200s only), p50, p99, the ratio to node-oidc-provider measured
just before in the same round, and the RSS per worker. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import fixtures  # noqa: E402
from load import Cores, Result, Server, check_tools, drive, free_port  # noqa: E402

BIN = os.path.dirname(sys.executable)
NODE_CLIENT, NODE_SECRET = "service", "node-bench-secret-0123456789abcdef0123456789"
CASES = (("exchange", "exchange, returning users"), ("first", "exchange, first logins"),
         ("cc", "client credentials"), ("introspect", "introspection"))
PATHS = {"exchange": "/realms/default/token", "first": "/realms/default/token",
         "cc": "/realms/default/token", "introspect": "/realms/default/introspect"}


@dataclass
class Config:
    """One ``authserver serve`` under test."""

    label: str
    instance: fixtures.Instance
    args: list[str]
    server: Server | None = None


def main() -> int:
    args = _arguments()
    problem = check_tools()
    if problem:
        print(f"cannot run the benchmark: {problem}")
        return 2
    cores = Cores([], [], "not pinned (--no-pin): servers and wrk share every core") if args.no_pin else Cores.detect()
    workdir = tempfile.mkdtemp(prefix="authserver-bench-")
    upstream = fixtures.Upstream()
    node, ceilings, configs = None, [], []
    try:
        print(f"machine: {fixtures.machine()}; python {sys.version.split()[0]}; {_node_version()}")
        print(f"pinning: {cores.description}")
        print(f"load: wrk, 1 thread, {args.connections} keep-alive connections; {args.rounds} interleaved "
              f"round(s) of {args.seconds:g} s per case after a warm-up; 200s only count")
        returning = fixtures.mint_id_tokens(upstream.signer(), fixtures.returning_subjects())
        configs = _configs(args, workdir, upstream, returning)
        node = _start_node(cores, workdir)
        ceilings = _start_ceilings(cores, configs[0].instance, upstream, workdir) if args.ceiling else []
        for config in configs:
            config.server = _start_authserver(cores, config, workdir)
        results = _rounds(args, cores, node, ceilings, configs, upstream)
        _summary(results, configs)
    finally:
        for config in configs:
            if config.server is not None:
                config.server.stop()
        for server in (node, *ceilings):
            if server is not None:
                server.stop()
        upstream.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round of 3 s, SQLite only")
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL URL ('' to skip); schema authserver_bench is recreated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--serve", action="append", metavar="LABEL=ARGS", default=[],
                        help="instead of default and alternative: `authserver serve` with these arguments "
                             "(repeatable), e.g. 'granian-2w=--server granian --workers 2'")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip the minimal ceilings, Flask and plain WSGI (bench/minimal_app.py)")
    parser.add_argument("--no-pin", action="store_true",
                        help="pin nothing: servers and wrk share every core (how two worker processes "
                             "are measured against one, e.g. --serve 1w='--workers 1' --serve 2w='--workers 2')")
    parser.add_argument("--cases", default=",".join(c for c, _ in CASES),
                        help="comma-separated subset of: exchange,first,cc,introspect")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.postgres = 1, 3.0, ""
    args.cases = [c for c in args.cases.split(",") if c]
    return args


def _configs(args, workdir: str, upstream: fixtures.Upstream, returning: list[str]) -> list[Config]:
    from authserver.cli.wsgi_server import DEFAULT_SERVER, SERVERS

    alternative = next(s for s in SERVERS if s != DEFAULT_SERVER)
    serves = [tuple(s.split("=", 1)) for s in args.serve] or [
        (f"default ({DEFAULT_SERVER})", ""), (f"{alternative}", f"--server {alternative}")]
    databases = [("sqlite", f"sqlite:///{workdir}/bench.db")]
    if args.postgres:
        try:
            databases.append(("postgresql", fixtures.reset_postgres(args.postgres, "authserver_bench")))
        except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional here
            print(f"PostgreSQL skipped ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})")
    configs = []
    for name, url in databases:
        instance = fixtures.prepare(name, url, upstream, returning)
        instance.returning = fixtures.exchange_bodies(instance, returning)
        for label, serve_args in serves:
            configs.append(Config(f"{name} {label}", instance, serve_args.split()))
    return configs


def _start_node(cores: Cores, workdir: str) -> Server:
    port = free_port()
    env = {"PORT": str(port), "CLIENT_ID": NODE_CLIENT, "CLIENT_SECRET": NODE_SECRET,
           "RESOURCE": fixtures.NODE_RESOURCE, "NODE_ENV": "production"}
    return Server("node-oidc-provider", [*cores.server, "node", os.path.join(HERE, "node_reference.mjs")], port,
                  env, "/.well-known/openid-configuration", os.path.join(workdir, "node.log"))


def _start_authserver(cores: Cores, config: Config, workdir: str) -> Server:
    port = free_port()
    instance_path = os.path.join(workdir, f"instance-{port}")
    os.makedirs(instance_path)
    log = os.path.join(workdir, f"serve-{port}.log")
    cmd = [*cores.server, os.path.join(BIN, "authserver"), "serve", "--bind", f"127.0.0.1:{port}",
           "--metrics-bind", f"127.0.0.1:{free_port()}", *config.args]
    return Server(config.label, cmd, port, config.instance.env(instance_path), "/readyz", log)


CEILINGS = (("minimal Flask ceiling", "create_app"), ("minimal WSGI, no framework", "create_wsgi_app"))


def _start_ceilings(cores: Cores, instance: fixtures.Instance, upstream: fixtures.Upstream,
                    workdir: str) -> list[Server]:
    """bench/minimal_app.py's two front ends under granian, one worker, threads as ``serve``'s default."""
    from authserver.cli.wsgi_server import DEFAULT_THREADS

    env = {"MINIMAL_DATABASE_URL": instance.url,
           "MINIMAL_UPSTREAM_JWK": json.dumps(upstream.key.as_dict(private=False))}
    servers = []
    for label, factory in CEILINGS:
        port = free_port()
        cmd = [*cores.server, os.path.join(BIN, "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--blocking-threads", str(DEFAULT_THREADS), "--factory",
               "--working-dir", HERE, f"minimal_app:{factory}"]
        servers.append(Server(label, cmd, port, env, "/ready", os.path.join(workdir, f"{factory}.log")))
    return servers


# --- rounds ----------------------------------------------------------------------------


def _rounds(args, cores: Cores, node: Server, ceilings: list[Server], configs: list[Config], upstream) -> dict:
    """{"cases": {(config label, case): [(Result, node Result) per round]},
    "ceilings": {label: [(Result, node Result) per round]}}."""
    results: dict = {"ceilings": {}, "cases": {}}
    first_rate: dict[str, float] = {}
    for round_no in range(0, args.rounds + 1):
        warmup = round_no == 0
        seconds = min(2.0, args.seconds) if warmup else args.seconds
        print(f"\n{'warm-up' if warmup else f'round {round_no}'}")
        for config in configs:
            first_bodies = _first_login_bodies(config, upstream, round_no, first_rate.get(config.label),
                                               seconds) if "first" in args.cases else []
            reference = drive(cores, node, "/token", fixtures.node_body(NODE_CLIENT, NODE_SECRET), seconds,
                              args.connections)
            _print_row("node-oidc-provider", "client credentials", reference, None)
            for ceiling in ceilings if config is configs[0] else []:
                result = drive(cores, ceiling, "/realms/default/token", config.instance.returning, seconds,
                               args.connections)
                result.rss_mb = ceiling.rss_per_worker_mb()
                _print_row(ceiling.label, "same crypto + one read", result, reference)
                if not warmup:
                    results["ceilings"].setdefault(ceiling.label, []).append((result, reference))
            for case in args.cases:
                bodies = first_bodies if case == "first" else _bodies(config.instance, case)
                result = drive(cores, config.server, PATHS[case], bodies, seconds, args.connections)
                result.rss_mb = config.server.rss_per_worker_mb()
                _print_row(config.label, dict(CASES)[case], result, reference)
                if case == "first":
                    first_rate[config.label] = max(first_rate.get(config.label, 0), result.rps)
                if not warmup:
                    results["cases"].setdefault((config.label, case), []).append((result, reference))
    return results


def _bodies(instance: fixtures.Instance, case: str) -> list[str]:
    if case == "exchange":
        return instance.returning
    if case == "cc":
        return fixtures.client_credentials_body(instance)
    return fixtures.introspection_bodies(instance)


def _first_login_bodies(config: Config, upstream, round_no: int, rate: float | None, seconds: float) -> list[str]:
    """Fresh subjects for every run: enough for twice the best rate seen so far."""
    count = int(max(1500, 2.5 * (rate or 600) * seconds))
    tag = config.label.replace(" ", "_").replace("(", "").replace(")", "")
    subjects = [f"new-{tag}-{round_no}-{i}" for i in range(count)]
    return fixtures.exchange_bodies(config.instance, fixtures.mint_id_tokens(upstream.signer(), subjects))


def _print_row(label: str, case: str, result: Result, reference: Result | None) -> None:
    ratio = f"{result.rps / reference.rps:5.2f}x node" if reference and reference.rps else " " * 10
    rss = f"RSS/worker {result.rss_mb:4.0f} MB" if result.rss_mb else ""
    flags = (f"  errors {result.errors}" if result.errors else "") + \
        ("  (bodies reused)" if result.wrapped and case.endswith("first logins") else "")
    print(f"  {label:<28} {case:<27} {result.rps:8,.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
          f"p99 {result.p99_ms:6.1f} ms  {ratio}  CPU {result.cpu_ms:5.2f} ms/req  {rss}{flags}", flush=True)
    if result.errors and result.sample:
        print(f"      first error: {result.sample}")


def _summary(results: dict, configs: list[Config]) -> None:
    print("\nsummary (median over rounds; ratio = req/s ÷ node-oidc-provider's in the same round; "
          "CPU = server CPU time per request)")
    print(f"  {'configuration':<28} {'case':<27} {'req/s':>8}  {'p50':>8}  {'p99':>8}  {'ratio':>6}  "
          f"{'CPU':>10}  RSS/worker")
    rows = [(c.label, name, results["cases"].get((c.label, case))) for c in configs for case, name in CASES]
    ceilings = [(label, "same crypto + one read", runs) for label, runs in results["ceilings"].items()]
    for label, name, runs in [*ceilings, *rows]:
        if not runs:
            continue
        rps = statistics.median(r.rps for r, _ in runs)
        p50 = statistics.median(r.p50_ms for r, _ in runs)
        p99 = statistics.median(r.p99_ms for r, _ in runs)
        ratio = statistics.median(r.rps / n.rps for r, n in runs if n.rps)
        cpu = statistics.median(r.cpu_ms for r, _ in runs)
        rss = max(r.rss_mb for r, _ in runs)
        print(f"  {label:<28} {name:<27} {rps:8,.0f}  {p50:5.1f} ms  {p99:5.1f} ms  {ratio:5.2f}x  "
              f"{cpu:5.2f} ms/req  {rss:4.0f} MB")
    nodes = list({id(n): n for runs in results["cases"].values() for _, n in runs}.values())
    if nodes:
        print(f"  node-oidc-provider client credentials: median {statistics.median(n.rps for n in nodes):,.0f} "
              f"req/s, CPU {statistics.median(n.cpu_ms for n in nodes):.2f} ms/req, over {len(nodes)} runs")


def _node_version() -> str:
    import subprocess

    return "node " + subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
