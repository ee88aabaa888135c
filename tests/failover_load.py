"""The two-host failover scenario: issue 14's load mix through the balancer, `kill -9` of one host mid-run,
and the figures that say whether the survivor took over cleanly.

Clients send raw SigV4-signed EC2 requests (botocore signs, requests sends), each RunInstances with a
ClientToken, and retry a failed request with the same parameters as an SDK would, so every attempt is
counted and a launch whose host died is answered by the survivor. The engine (the simulator) holds back
its answers to VM creations and removals for `hold` seconds after acting, so at any moment each host is in
the middle of some of them, and the host is killed while it holds at least one operation's lease.

What is checked afterwards, in PostgreSQL and in the engine's own event log:
- no request failed before the kill, and none failed later than the lease after it;
- every operation recorded before the kill ended (none left pending or running), and every RunInstances
  or TerminateInstances answered 200 has its operation done;
- the engine created one VM per launch operation and removed each VM at most once (no step ran twice);
- every operation the dead host held a lease on at the kill was taken over by the survivor (its log names
  each one, and its lease owner was seen to change).
"""
from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import sqlalchemy as sa
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree

from gateway.schema import operations_table as ops

from .two_host_cluster import ACCESS_KEY, SECRET_KEY, Cluster

MIX = (("DescribeInstances", 60), ("DescribeImages", 10), ("DescribeVolumes", 10), ("RunInstances", 10),
       ("TerminateInstances", 10))
CENTOS_AMI = "ami-7e000000000040008000000000000011"  # the simulator's centos-stream-9 in Default
INSTANCE_ID = re.compile(rb"<instanceId>i-([0-9a-f]{32})</instanceId>")
TAKEOVER = re.compile(r"operation (\w+): took it over from (\S+),")
VM_ADDED, VM_ADD_STARTED, VM_STOPPED, VM_REMOVED = 34, 37, 33, 113  # the engine's audit-log codes
ENGINE_AUTH = ("admin@internal", "admin")


def vm_uuid(hex32: str) -> str:
    return str(uuid.UUID(hex32))


@dataclass
class Attempt:
    action: str
    started: float
    ended: float
    status: int  # 0: no answer (connection closed)
    host: str
    error: str  # why it failed: the EC2 error code, or the client's exception when there was no answer
    instance_ids: list[str] = field(default_factory=list)  # VMs a RunInstances made, or a TerminateInstances asked


def _signed_post(session: requests.Session, url: str, params: dict[str, str]) -> requests.Response:
    body = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in {"Version": "2016-11-15", **params}.items())
    request = AWSRequest("POST", url, data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "ec2", "us-east-1").add_auth(request)
    return session.post(url, data=body, headers=dict(request.headers), timeout=60)


def _error_code(content: bytes) -> str:
    """The EC2 error code of a failed answer, or the start of a balancer's error page."""
    code = re.search(rb"<Code>([^<]+)</Code>", content)
    return (code.group(1) if code else content[:60]).decode(errors="replace").strip()


def _client(url: str, seed: int, stop: threading.Event, attempts: list[Attempt]) -> None:
    """The mix in random order until `stop`; a failed request is sent again (same ClientToken) until answered."""
    rng, session, launched = random.Random(seed), requests.Session(), []
    actions, weights = zip(*MIX)
    while not stop.is_set():
        action = rng.choices(actions, weights)[0]
        params, asked = {"Action": action}, []
        if action == "RunInstances":
            params.update(ImageId=CENTOS_AMI, MinCount="1", MaxCount="1", InstanceType="o1.tiny",
                          ClientToken=f"failover-{seed}-{rng.getrandbits(64):016x}")
        elif action == "TerminateInstances":
            if not launched:
                continue
            asked = [launched.pop(0)]
            params["InstanceId.1"] = "i-" + asked[0].replace("-", "")
        while True:
            started = time.time()
            try:
                response = _signed_post(session, url, params)
                status, content, host = response.status_code, response.content, response.headers.get("X-Host", "")
                error = "" if status == 200 else _error_code(content)
            except requests.RequestException as exc:
                status, content, host, error = 0, b"", "", type(exc).__name__
            made = [vm_uuid(m.decode()) for m in INSTANCE_ID.findall(content)] if action == "RunInstances" else []
            attempts.append(Attempt(action, started, time.time(), status, host, error, made or asked))
            if status == 200 or stop.is_set():
                break
            time.sleep(0.25)
        if status == 200:
            launched += made


@dataclass
class Figures:
    kill_after: float = 0.0
    killed_at: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    held_at_kill: list[str] = field(default_factory=list)       # operations the dead host held a lease on
    lease_moved_at: dict[str, float] = field(default_factory=dict)  # -> when its lease owner was seen to change
    taken_over: dict[str, str] = field(default_factory=dict)    # survivor's log: operation -> previous owner
    operations: list[dict[str, Any]] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)      # VM -> creations the engine logged in the run
    removed: Counter[str] = field(default_factory=Counter)
    stopped: Counter[str] = field(default_factory=Counter)
    settle_seconds: float = 0.0
    lease_seconds: float = 0.0

    # -- what the figures say -------------------------------------------------------------------------
    def failed(self, after_kill: bool) -> list[Attempt]:
        return [a for a in self.attempts if a.status != 200 and (a.ended >= self.killed_at) == after_kill]

    @property
    def failure_window(self) -> float:
        """Seconds from the kill to the end of the last failed request (0 if none failed)."""
        return max((a.ended - self.killed_at for a in self.failed(after_kill=True)), default=0.0)

    def answered_before_kill(self, action: str) -> set[str]:
        return {i for a in self.attempts if a.action == action and a.status == 200 and a.ended < self.killed_at
                for i in a.instance_ids}

    def problems(self) -> list[str]:
        """What went wrong with the failover; a request failing before the kill (the cluster under load, not the
        failover) counts only beyond one in fifty, and is printed with its code by `failure_lines`."""
        found = []
        if len(self.failed(after_kill=False)) > len(self.attempts) // 50:  # a rare one: an overloaded machine
            found.append(f"{len(self.failed(after_kill=False))} requests failed before the kill")
        if self.failure_window > self.lease_seconds:
            found.append(f"requests failed for {self.failure_window:.1f} s after the kill, longer than the "
                         f"{self.lease_seconds:g} s lease")
        active = [o["id"] for o in self.operations if o["state"] in ("pending", "running")]
        if active:
            found.append(f"{len(active)} operations never ended: {active[:5]}")
        done = {(o["kind"], o["target"]) for o in self.operations if o["state"] == "done"}
        lost = [("run", i) for i in self.answered_before_kill("RunInstances") if ("ovirt.run", i) not in done]
        lost += [("terminate", i) for i in self.answered_before_kill("TerminateInstances")
                 if ("ovirt.terminate", i) not in done]
        if lost:
            found.append(f"operations answered before the kill and not done: {lost[:5]}")
        launch_targets = Counter(o["target"] for o in self.operations if o["kind"] == "ovirt.run" and o["target"])
        twice = [vm for vm, n in self.created.items() if n > 1] + [vm for vm, n in launch_targets.items() if n > 1]
        orphans = [vm for vm in self.created if vm not in launch_targets]
        if twice or orphans:
            found.append(f"VMs created twice {twice[:5]} or by no launch operation {orphans[:5]}")
        removed_twice = [vm for vm, n in self.removed.items() if n > 1]
        if removed_twice:
            found.append(f"VMs removed twice: {removed_twice[:5]}")
        if not self.held_at_kill:
            found.append("the dead host held no operation at the kill: nothing to take over")
        not_taken = [o for o in self.held_at_kill if o not in self.taken_over]
        if not_taken:
            found.append(f"operations of the dead host the survivor did not take over: {not_taken}")
        return found

    def failure_lines(self) -> list[str]:
        """Each failed request: when it started and ended, relative to the kill."""
        return [f"{a.action} {a.status or ''} {a.error} (host {a.host or '?'}): sent {a.started - self.killed_at:+.2f} s, "
                f"ended {a.ended - self.killed_at:+.2f} s from the kill"
                for a in sorted(self.failed(False) + self.failed(True), key=lambda a: a.started)]

    def lines(self) -> list[str]:
        before = [a for a in self.attempts if a.started < self.killed_at]
        after = [a for a in self.attempts if a.started >= self.killed_at]
        start, end = min(a.started for a in self.attempts), max(a.ended for a in self.attempts)
        per_host = Counter(a.host for a in before if a.status == 200)
        states = Counter((o["kind"], o["state"]) for o in self.operations)
        failed_ops = Counter(o["last_error"] for o in self.operations if o["state"] == "failed")
        failed_after = self.failed(after_kill=True)
        moved = [self.lease_moved_at[o] - self.killed_at for o in self.held_at_kill if o in self.lease_moved_at]

        def rate(items: list[Attempt], seconds: float) -> str:
            times = sorted(a.ended - a.started for a in items if a.status == 200)
            p = (lambda f: times[min(len(times) - 1, int(f * (len(times) - 1)))] * 1000) if times else (lambda f: 0)
            return f"{len(items) / max(seconds, 1e-9):.1f} req/s, p50 {p(.5):.0f} ms, p99 {p(.99):.0f} ms"

        return [
            f"lease_seconds = {self.lease_seconds:g} (operations.lease_seconds for this run)",
            f"before the kill ({self.killed_at - start:.1f} s): {len(before)} requests, "
            f"{rate(before, self.killed_at - start)}; answered by " + ", ".join(
                f"{h or '?'} {n}" for h, n in sorted(per_host.items())),
            f"after the kill ({end - self.killed_at:.1f} s): {len(after)} requests, "
            f"{rate(after, end - self.killed_at)}",
            f"failed before the kill: {len(self.failed(after_kill=False))}; after: {len(failed_after)} "
            f"({', '.join(f'{k} {n}' for k, n in sorted(Counter(a.action for a in failed_after).items())) or 'none'}), "
            f"the last {self.failure_window:.2f} s after the kill; by status: "
            + ", ".join(f"{k} {n}" for k, n in sorted(Counter(
                (a.action, a.status) for a in self.failed(True) + self.failed(False)).items())),
            "operations: " + ", ".join(f"{k.split('.')[-1]} {s} {n}" for (k, s), n in sorted(states.items()))
            + (f"; failed because: {dict(failed_ops)}" if failed_ops else ""),
            f"answered 200 before the kill: {len(self.answered_before_kill('RunInstances'))} launches, "
            f"{len(self.answered_before_kill('TerminateInstances'))} terminations; all done: "
            f"{not any('not done' in p for p in self.problems())}",
            f"engine: {len(self.created)} VMs created ({sum(self.created.values())} creations), "
            f"{len(self.removed)} removed ({sum(self.removed.values())} removals), "
            f"{sum(1 for n in self.stopped.values() if n > 1)} VMs asked to stop more than once",
            f"dead host's leases at the kill: {len(self.held_at_kill)}; taken over by the survivor (its log): "
            f"{sum(1 for o in self.held_at_kill if o in self.taken_over)}; lease owner seen to change "
            f"{min(moved, default=float('nan')):.1f}-{max(moved, default=float('nan')):.1f} s after the kill",
            f"every operation ended {self.settle_seconds:.1f} s after the load stopped",
        ]


def _engine_events(cluster: Cluster, after: int) -> list[tuple[int, int, str]]:
    """(index, code, vm id) of the engine's audit-log events newer than `after`."""
    answer = requests.get(f"{cluster.api_url}/events", params={"from": str(after)}, auth=ENGINE_AUTH,
                          headers={"Accept": "application/xml"}, timeout=60)
    answer.raise_for_status()
    found = []
    for event in etree.fromstring(answer.content).iter("event"):
        vm = event.find("vm")
        found.append((int(event.get("id") or event.findtext("index") or 0), int(event.findtext("code") or 0),
                      vm.get("id") if vm is not None else ""))
    return found


def _last_event_index(cluster: Cluster) -> int:
    return max((index for index, _, _ in _engine_events(cluster, 0)), default=0)


def run_failover(cluster: Cluster, *, clients: int = 20, kill_after: float = 15.0, run_after: float = 15.0,
                 hold: float = 1.0, settle_timeout: float = 90.0) -> Figures:
    """Run the scenario on a fresh cluster and return its figures (the checks are `Figures.problems()`)."""
    dead, survivor = cluster.hosts
    engine = sa.create_engine(cluster.store_url)
    requests.post(f"{cluster.simulator_url}/__simulator__/faults", timeout=10, json={"hold": [
        {"path": r"/vms$", "method": "POST", "seconds": hold},
        {"path": r"/vms/[0-9a-f-]+$", "method": "DELETE", "seconds": hold}]}).raise_for_status()
    first_event = _last_event_index(cluster)
    figures = Figures(kill_after=kill_after, lease_seconds=cluster.lease_seconds)
    stop = threading.Event()
    started = time.time()
    threads = [threading.Thread(target=_client, args=(f"{cluster.balancer_url}/", n, stop, figures.attempts),
                                daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        # kill once the load has run `kill_after` seconds and the host holds an operation's lease
        dead_owner = ops.c.lease_owner.like(f"{dead.name}:%") & (ops.c.state == "running")
        while True:
            time.sleep(0.05)
            if time.time() - started < kill_after:
                continue
            with engine.connect() as conn:
                held = [r[0] for r in conn.execute(sa.select(ops.c.id).where(dead_owner))]
            if held or time.time() - started > kill_after + 20:
                break
        dead.kill()
        figures.killed_at = time.time()
        with engine.connect() as conn:  # what it held when it died (a step may have ended in between)
            figures.held_at_kill = [r[0] for r in conn.execute(sa.select(ops.c.id).where(dead_owner))]
        while time.time() - figures.killed_at < run_after:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(ops.c.id, ops.c.lease_owner, ops.c.state).where(
                    ops.c.id.in_(figures.held_at_kill))).all() if figures.held_at_kill else []
            for op_id, owner, state in rows:
                if op_id not in figures.lease_moved_at and not (owner or "").startswith(f"{dead.name}:"):
                    figures.lease_moved_at[op_id] = time.time()
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    stopped = time.time()
    while True:  # the survivor finishes what is left
        with engine.connect() as conn:
            active = conn.execute(sa.select(sa.func.count()).where(ops.c.state.in_(("pending", "running")))).scalar()
        if not active or time.time() - stopped > settle_timeout:
            break
        time.sleep(0.2)
    figures.settle_seconds = time.time() - stopped
    with engine.connect() as conn:
        figures.operations = [dict(r._mapping) for r in conn.execute(sa.select(
            ops.c.id, ops.c.kind, ops.c.state, ops.c.step, ops.c.target, ops.c.last_error, ops.c.created))]
    engine.dispose()
    for _index, code, vm in _engine_events(cluster, first_event):
        if code in (VM_ADDED, VM_ADD_STARTED):
            figures.created[vm] += 1
        elif code == VM_REMOVED:
            figures.removed[vm] += 1
        elif code == VM_STOPPED:
            figures.stopped[vm] += 1
    figures.taken_over = {m.group(1): m.group(2) for m in TAKEOVER.finditer(survivor.log.read_text(errors="replace"))
                          if m.group(2).startswith(f"{dead.name}:")}
    return figures
