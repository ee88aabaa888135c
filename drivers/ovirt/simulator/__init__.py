"""A faithful oVirt Engine REST API v4 simulator over real HTTP: cloudgw's embedded default backend.

It serves the SSO token endpoint (`/ovirt-engine/sso/oauth/token`, `/ovirt-engine/services/sso-logout`)
and the API at `/ovirt-engine/api` (and `/ovirt-engine/api/v4`): data centers, clusters, hosts, storage
domains, networks, vNIC profiles, instance types, templates (Blank always present; new ones made from
down VMs, and removed), VMs with their power actions and state machine, NICs with guest-reported IPs,
disks (floating ones too: grown with an update, copied) and disk attachments (hot plug and unplug, bootable,
interface), snapshots (and VMs cloned from them),
tags, permissions (with the engine's 403 for an action the user holds no role for; see `permissions`)
and jobs, with the real engine's XML shapes, status codes and faults. Timed
behaviour (booting, disk and template copies, deletions, snapshots) follows a controllable `Clock` and
is evaluated lazily on each request, so there are no background threads and tests are deterministic.

Use::

    from drivers.ovirt.simulator.server import Simulator, serve_in_thread
    handle = serve_in_thread(Simulator(speed=100, control_api=True))
    ...  # point a client at handle.api_url with admin@internal / admin (or user@internal / user)
    handle.shutdown()

Control API (only with `control_api=True`; JSON in and out; never part of a real engine):

- `GET  /__simulator__/clock` -> `{"now", "iso", "speed", "frozen"}`
- `POST /__simulator__/clock/advance` `{"seconds": N}`: move simulated time forward
- `POST /__simulator__/clock` `{"speed": S, "frozen": bool}`: change speed, freeze or unfreeze
- `GET  /__simulator__/faults`: the active fault configuration
- `POST /__simulator__/faults`: merge in any of
    - `"latency": seconds` added to every engine request (real seconds),
    - `"error": {"path": regex, "status": 503, "method": "GET", "count": N, "detail": text}` (or a list
      under `"errors"`): answer matching requests with that status and a `<fault>`; `count` limits how
      many requests it hits (absent: all); with `"body": text` (and `"content_type"`, default text/html)
      the answer is that text instead of a fault, e.g. a proxy's login page with status 200,
    - `"drop": {"path": regex, "method": ..., "count": N}` (or `"drops"`): close matching connections
      without an answer,
    - `"hold": {"path": regex, "method": "POST", "seconds": S, "count": N}` (or `"holds"`): act on
      matching requests, then keep the answer back S real seconds (an engine that did the work but
      answers late: a client's timeout or crash falls after the side effect),
    - `"expire_tokens": true`: every SSO token and session becomes invalid (the next call gets 401),
    - `"engine_down": true`: every engine path answers 503 with Apache's error page;
- `DELETE /__simulator__/faults`: clear latency, rules and engine_down
- `POST /__simulator__/reset`: back to the seed state (and `vms` seeded VMs), faults cleared
- `POST /__simulator__/load` `{"vm": id, "cpu_percent", "memory_used_percent", "net_rx", "net_tx",
  "disk_read", "disk_write", "disk_read_ops", "disk_write_ops"}`: what the VM does while it runs (bytes or
  operations a second; network on its first NIC, disk on its first disk), read back in its statistics
  (`vms/{id}/statistics`, `vms/{id}/nics/{nic}/statistics`, `disks/{id}/statistics`; see `vm_statistics`)
- `POST /__simulator__/vms/<id>/status` `{"status": "not_responding"}`: force a VM status
- `GET  /__simulator__/state`: object counts, pending timed steps, the clock
- `GET  /__simulator__/stats` -> `{"total", "requests": {"GET /vms": n, "GET /vms/<id>": n, ...}}`: engine
  requests served since start or the last `DELETE /__simulator__/stats`, by method and path template
  (the benchmarks' counting proxy)
- `GET|POST /__simulator__/costs` `{"list_cost_ms": N}`: real milliseconds a VM listing sleeps per VM it
  answers, after rendering and outside the lock (0 by default; `cloudgw simulator --list-cost-ms N`)
- `POST /__simulator__/events/gap` `{"skip": N}`: the next N events get their index but are never listed
  (a hole in `GET /events`, as a dismissed or aged-out event leaves)

Known simplifications: answers are XML only (no JSON); templates have no sub-versions and are made
from VMs only (not from snapshots or configurations); the user-level API (`Filter: true`, the default
for non-admin users) filters VMs and jobs, while infrastructure, templates and disks stay visible to every
user; only the roles UserRole and UserVmManager can be given on a VM; token idle expiry runs on real time
(30 minutes), not on the simulated clock.
"""
