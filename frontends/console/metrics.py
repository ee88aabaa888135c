"""An instance's metrics page: CPU, network, disk and memory over the last hour or day, as charts.

The points are the metric store's, read through gateway.metric_periods as CloudWatch's GetMetricStatistics
reads them (Average per period). Visibility is the console's scope: the engine must show the instance to the
signed-in user (a user-level session sees only its own VMs), or the page is a 404.
"""
from __future__ import annotations

import math
from typing import Any

from flask import g, render_template, request

from gateway.app import current_gateway
from gateway.errors import InvalidParameter
from gateway.metric_periods import instance_metric

from .blueprint import bp
from .charts import Chart, chart, number

EC2, AGENT = "AWS/EC2", "CWAgent"
# Each chart: its title and (namespace, metric) pairs, in the sampler's names and units.
CHARTS = (("CPU utilization", ((EC2, "CPUUtilization"),)),
          ("Network", ((EC2, "NetworkIn"), (EC2, "NetworkOut"))),
          ("Disk", ((EC2, "DiskReadBytes"), (EC2, "DiskWriteBytes"))),
          ("Memory used (guest agent)", ((AGENT, "mem_used_percent"),)))
WINDOWS = {"1h": (3600, 60), "24h": (86400, 300)}  # the period selector: window and period, in seconds


@bp.get("/instances/<instance_id>/metrics")
def instance_metrics(instance_id: str) -> Any:
    window = request.args.get("window", "1h")
    if window not in WINDOWS:
        raise InvalidParameter(f"Unknown window '{window[:20]}' (known: {', '.join(WINDOWS)})")
    seconds, period = WINDOWS[window]
    gateway = current_gateway()
    scope = g.user.scope()
    instance = gateway.driver_for(scope.provider).instance(scope, instance_id)  # NotFound: a 404 page
    end = math.ceil(gateway.metric_store.clock() / period) * period
    start = end - seconds
    charts: list[Chart] = []
    for title, metrics in CHARTS:
        series, unit = {}, None
        for namespace, metric in metrics:
            found_unit, buckets = instance_metric(gateway.metric_store, scope.provider.name, instance.id, namespace,
                                                  metric, start, end, period, gateway.config.cloudwatch_minute_days,
                                                  gateway.config.cloudwatch_five_minute_days)
            unit = unit or found_unit
            series[metric] = buckets
        charts.append(chart(title, unit, series, start, period, seconds // period))
    return render_template("instance_metrics.html", instance=instance, charts=charts, window=window,
                           windows=WINDOWS, period=period, number=number)
