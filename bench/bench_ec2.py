"""Benchmark: boto3 DescribeInstances against cloudgw (on the oVirt simulator) and against moto's server,
each holding the same number of instances, alternated in one run. Prints requests per second for each
and the ratio cloudgw/moto (the issue's aim: at least 3).

    .venv/bin/python bench/bench_ec2.py [--sizes 100,1000] [--seconds 8] [--rounds 4]

Every server runs in its own process (the simulator, the gateway under `cloudgw serve`, `moto_server`),
so the client's own parsing does not share a GIL with either; every cloudgw request crosses to the
engine over HTTP. The simulator spreads seeded VMs over its data centers, so it is seeded until the
benchmarked data center (us-east-1 = Default) holds the wanted number; moto is given exactly as many.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import boto3
from botocore.config import Config
from harness import free_port, process, wait_http

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLOUDGW = [PYTHON, "-m", "gateway.cli"]
ACCESS_KEY, SECRET_KEY = "bench-key", "bench-secret"


def client(url: str) -> Any:
    return boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=Config(retries={"max_attempts": 1}))


def count(ec2: Any) -> int:
    return sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])


@contextmanager
def cloudgw(vms: int, workdir: Path) -> Iterator[str]:
    """A simulator seeded with `vms` VMs and a gateway on it; yields the gateway's EC2 URL."""
    sim_port, port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"cloudgw-{vms}-", dir=workdir))
    data, config = home / "data", home / "cloudgw.toml"
    config.write_text(
        f'[server]\nport = {port}\ndata_dir = "{data}"\nfrontends = ["ec2"]\n[log]\nlevel = "warning"\n'
        f'[[providers]]\nname = "bench"\nurl = "http://127.0.0.1:{sim_port}/ovirt-engine/api"\n'
        f'default_datacenter = "Default"\nregion_aliases = {{ "us-east-1" = "Default" }}\n')
    subprocess.run([*CLOUDGW, "credentials", "create", "--config", str(config), "--user", "admin@internal",
                    "--password", "admin", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY],
                   cwd=ROOT, check=True, capture_output=True)
    with process([*CLOUDGW, "simulator", "--port", str(sim_port), "--vms", str(vms)]):
        wait_http(f"http://127.0.0.1:{sim_port}/ovirt-engine/api")
        with process([PYTHON, str(Path(__file__).resolve()), "--serve-gateway", str(config)]):
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}/ec2/"


@contextmanager
def moto(instances: int) -> Iterator[str]:
    port = free_port()
    with process([str(Path(PYTHON).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]):
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/moto-api/")
        ec2 = client(url)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        left = instances
        while left:
            batch = min(left, 500)
            ec2.run_instances(ImageId=image, MinCount=batch, MaxCount=batch, InstanceType="t3.micro")
            left -= batch
        yield url


def rate(ec2: Any, seconds: float) -> float:
    """DescribeInstances requests per second (each fully parsed by botocore) over about `seconds`."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or done < 2:
        ec2.describe_instances()
        done += 1
    return done / (time.perf_counter() - start)


def seeded_for(wanted: int, workdir: Path) -> int:
    """How many VMs the simulator must seed for its Default data center to hold at least `wanted`."""
    probe = 300
    with cloudgw(probe, workdir / "probe") as url:
        share = count(client(url)) / probe
    return int(wanted / share) + 3


def bench(size: int, seconds: float, rounds: int, workdir: Path) -> tuple[float, float, int]:
    with cloudgw(seeded_for(size, workdir), workdir) as gw_url:
        gw = client(gw_url)
        held = count(gw)
        with moto(held) as moto_url:
            mo = client(moto_url)
            assert count(mo) == held, "moto must hold as many instances as cloudgw"
            rate(gw, 1), rate(mo, 1)  # warm both (connections, caches, JIT-free but imports)
            gw_rates, moto_rates = [], []
            for _ in range(rounds):
                gw_rates.append(rate(gw, seconds / rounds))
                moto_rates.append(rate(mo, seconds / rounds))
    return sum(gw_rates) / rounds, sum(moto_rates) / rounds, held


def serve_gateway(config_path: str) -> None:
    """Run the gateway on a configured engine in this process, served as `cloudgw serve` serves the
    embedded default (werkzeug, threaded). (`cloudgw serve --config` would use gunicorn.)"""
    from werkzeug.serving import make_server

    from gateway.app import create_app
    from gateway.config import load

    cfg = load(config_path)
    make_server(cfg.host, cfg.port, create_app(cfg), threaded=True).serve_forever()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-gateway":
        serve_gateway(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per server and size")
    parser.add_argument("--rounds", type=int, default=4, help="alternations per size")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ec2-"))
    try:
        print(f"{'instances':>9}  {'cloudgw req/s':>13}  {'moto req/s':>10}  {'ratio':>6}")
        for size in (int(s) for s in args.sizes.split(",")):
            gw_rate, moto_rate, held = bench(size, args.seconds, args.rounds, workdir)
            print(f"{held:>9}  {gw_rate:>13.2f}  {moto_rate:>10.2f}  {gw_rate / moto_rate:>5.1f}x", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
