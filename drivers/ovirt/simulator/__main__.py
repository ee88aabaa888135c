"""`python -m drivers.ovirt.simulator`: serve the simulator in the foreground (as `cloudgw simulator`)."""

from __future__ import annotations

import argparse

from .server import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m drivers.ovirt.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--vms", type=int, default=0, help="seed this many extra VMs (scale tests)")
    parser.add_argument("--seed", default=None, help="seed file (default: the packaged seed.json)")
    parser.add_argument("--control", action="store_true", help="enable the /__simulator__/ control API")
    parser.add_argument("--list-cost-ms", type=float, default=0.0, help="real ms a VM listing costs per VM")
    args = parser.parse_args(argv)
    run(args.host, args.port, args.speed, args.vms, args.seed, args.control, args.list_cost_ms)


if __name__ == "__main__":
    main()
