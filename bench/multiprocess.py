"""A multi-process deployment on this machine, measured with the end-to-end bench.

Starts a fresh PostgreSQL database (next to --postgres), a Redis (an embedded server, or
--redis, e.g. redis://127.0.0.1:6379/13), two Rasa replicas on the cached model, two
`linli serve --role web` processes on their own ports and two `--role worker` processes
(the NLU client given both Rasa URLs); then runs bench/e2e_mix.py against them (it spreads
messages round-robin over both web ports and times each reply) and stops everything:
SIGTERM with a timeout, then SIGKILL, so no process is left. Asserts nothing.

    .venv/bin/python bench/multiprocess.py --quick
    .venv/bin/python bench/multiprocess.py -- --loads 25,50,75,100,125 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    REPO,
    Service,
    drop_postgres,
    free_port,
    fresh_postgres,
    machine_line,
    service_env,
    workdir,
)

from nlu.rasa_process import RasaServer
from nlu.train import latest_model


def main() -> int:
    """Start the deployment, run the bench against it, stop everything."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="pass --quick to the e2e bench")
    p.add_argument(
        "--postgres",
        default=os.environ.get(
            "LINLI_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    p.add_argument("--redis", help="a redis:// URL with its own db number (default: embedded)")
    p.add_argument("--model", type=Path, help="Rasa model (default: the cached current one)")
    p.add_argument("--webs", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("bench_args", nargs="*", help="after --: options for bench/e2e_mix.py")
    args = p.parse_args()
    model = args.model or latest_model()
    if model is None:
        print("no trained model: run `linli nlu train` first")
        return 1
    print(machine_line())
    with workdir() as wd:
        db_url = fresh_postgres(args.postgres)
        redis = None
        if args.redis:
            redis_url = args.redis
        else:
            from storage.embedded_redis import EmbeddedRedis

            redis = EmbeddedRedis(wd / "redis", appendonly=False)
            redis_url = redis.start()
        os.environ["RASA_TELEMETRY_ENABLED"] = "false"
        rasas = [RasaServer(model, log_dir=wd / "logs") for _ in range(args.replicas)]
        receiver_port = free_port()
        nlu = ",".join(r.url for r in rasas)
        env = service_env(wd, db_url, redis_url, nlu, f"http://127.0.0.1:{receiver_port}/outbound")
        service = Service(env, wd / "logs")
        try:
            for rasa in rasas:
                rasa.start()
            for i in range(args.webs):
                service.start("web", f"web-{i + 1}")
            for i in range(args.workers):
                service.start("worker", f"worker-{i + 1}")
            for rasa in rasas:
                print(f"Rasa {rasa.url} ready after {rasa.wait_ready(900):.0f} s", flush=True)
            asyncio.run(service.wait_ready())
            print(f"web {' '.join(service.web_urls)}; {args.workers} workers; database "
                  f"{db_url.rsplit('/', 1)[1]}; Redis {redis_url}", flush=True)  # fmt: skip
            pids = [f"--pid={n}={p.pid}" for n, p in service.procs.items()]
            if redis is not None and redis.process is not None:
                pids.append(f"--pid=redis={redis.process.pid}")
            command = [sys.executable, str(REPO / "bench" / "e2e_mix.py"),
                       "--web", ",".join(service.web_urls), "--receiver-port", str(receiver_port),
                       "--db-url", db_url, "--nlu", nlu, *pids,
                       *(["--quick"] if args.quick else []), *args.bench_args]  # fmt: skip
            return subprocess.run(command, cwd=REPO, check=False).returncode
        finally:
            service.stop()
            for rasa in rasas:
                rasa.stop(timeout=30)
            if redis is not None:
                redis.stop()
            drop_postgres(db_url)
            print(f"stopped: {len(service.procs)} linli processes, {len(rasas)} Rasa replicas, "
                  f"Redis, database dropped; logs in {wd / 'logs'}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
