#!/usr/bin/python3
"""Writes Engram's Grafana dashboards (monitoring/grafana/dashboards/*.json) from one description.

    /usr/bin/python3 monitoring/grafana/dashboards.py

Every panel's query is checked by PrometheusScrapeIT against a real Prometheus scraping pipelines with
traffic: a query that returns no series fails the build. `$pipeline` is the dashboard's pipeline
variable; `$__rate_interval` is Grafana's.
"""
import json
import pathlib

DS = {"type": "prometheus", "uid": "prometheus"}
P = 'pipeline=~"$pipeline"'


def panel(title, exprs, unit="short", legend="{{pipeline}}", w=12):
    if isinstance(exprs, str):
        exprs = [(exprs, legend)]
    return {
        "type": "timeseries", "title": title, "datasource": DS,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"h": 8, "w": w},
        "targets": [{"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": l} for i, (e, l) in enumerate(exprs)],
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"h": 1, "w": 24}, "panels": []}


def quantiles(metric, by="pipeline"):
    return [(f'histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{{P}}}[$__rate_interval])))', f"p{int(q * 100)} {{{{{by}}}}}")
            for q in (0.5, 0.99)]


def dashboard(uid, title, pipeline_regex, panels):
    x = y = 0
    laid = []
    for p in panels:
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if p["type"] == "row" or x + w > 24:
            x, y = 0, y + (8 if x else 0)
        p = dict(p, gridPos={"h": h, "w": w, "x": x, "y": y}, id=len(laid) + 1)
        laid.append(p)
        if p["type"] == "row":
            y += 1
        else:
            x += w
    return {
        "uid": uid, "title": title, "schemaVersion": 39, "version": 1, "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"}, "tags": ["engram"],
        "templating": {"list": [{
            "name": "pipeline", "label": "pipeline", "type": "query", "datasource": DS,
            "query": {"query": "label_values(engram_records_processed_total, pipeline)", "refId": "pipeline"},
            "definition": "label_values(engram_records_processed_total, pipeline)",
            "regex": pipeline_regex, "includeAll": True, "multi": True, "allValue": ".+",
            "current": {"text": "All", "value": "$__all"}, "refresh": 2}]},
        "panels": laid,
    }


common_state = [
    panel("State resets / min by reason", f'60 * sum by (pipeline, reason) (rate(engram_state_resets_total{{{P}}}[$__rate_interval]))',
          legend="{{pipeline}} {{reason}}"),
    panel("Idle states expired / min", f'60 * sum by (pipeline) (rate(engram_state_expired_total{{{P}}}[$__rate_interval]))'),
]
dead = panel("Dead letters / s by reason", f'sum by (pipeline, reason) (rate(engram_dead_letters_total{{{P}}}[$__rate_interval]))',
             legend="{{pipeline}} {{reason}}")
lag = panel("Consumer lag (records, max over partitions)", f'max by (pipeline) (kafka_consumer_fetch_manager_records_lag_max{{{P}}})')

overview = dashboard("engram-overview", "Engram: overview", "", [
    row("Pipelines"),
    panel("Records processed / s", f'sum by (pipeline) (rate(engram_records_processed_total{{{P}}}[$__rate_interval]))'),
    panel("Pipelines RUNNING (instances)", f'sum by (pipeline) (engram_streams_state{{{P}, state="RUNNING"}})'),
    panel("Event time to output, p99", f'histogram_quantile(0.99, sum by (le, pipeline) (rate(engram_output_latency_seconds_bucket{{{P}}}[$__rate_interval])))', unit="s"),
    lag,
    dead,
    panel("Scrape targets up", 'up{job="engram"}', legend="{{instance}}"),
    row("JVM and process"),
    panel("Heap used", 'sum by (instance) (jvm_memory_used_bytes{area="heap"})', unit="bytes", legend="{{instance}}", w=8),
    panel("GC pause time / s", 'sum by (instance) (rate(jvm_gc_pause_seconds_sum[$__rate_interval]))', unit="s", legend="{{instance}}", w=8),
    panel("Process CPU", 'process_cpu_usage', unit="percentunit", legend="{{instance}}", w=8),
])

sensor = dashboard("engram-sensor", "Engram: sensor anomaly detection", "sensor.*", [
    row("Throughput and alerts"),
    panel("Readings processed / s", f'sum by (pipeline) (rate(engram_records_processed_total{{{P}}}[$__rate_interval]))'),
    panel("Anomaly alerts / min", f'60 * sum by (pipeline) (rate(engram_anomalies_total{{{P}}}[$__rate_interval]))'),
    panel("Model step time", quantiles("engram_model_step_seconds"), unit="s"),
    panel("Event time to output", quantiles("engram_output_latency_seconds"), unit="s"),
    row("Input and state"),
    dead,
    lag,
    *common_state,
    panel("Local state wiped at start-up, by reason", f'sum by (pipeline, reason) (engram_state_wipes_total{{{P}}})',
          legend="{{pipeline}} {{reason}}"),
])

video = dashboard("engram-video", "Engram: video", "(video|person).*", [
    row("Frames"),
    panel("Frames processed / s", f'sum by (pipeline) (rate(engram_records_processed_total{{{P}}}[$__rate_interval]))'),
    panel("Frame stage time (decode + CNN, or decode + pose + tracking)", quantiles("engram_frame_encode_seconds"), unit="s"),
    panel("Model step time", quantiles("engram_model_step_seconds"), unit="s"),
    panel("Activity changes / min", f'60 * sum by (pipeline) (rate(engram_activity_changes_total{{{P}}}[$__rate_interval]))'),
    panel("Falls (person activity)", f'sum by (pipeline) (increase(engram_falls_total{{{P}}}[$__rate_interval]))'),
    row("Input and state"),
    dead,
    lag,
    *common_state,
    panel("Event time to output", quantiles("engram_output_latency_seconds"), unit="s"),
])

out = pathlib.Path(__file__).resolve().parent / "dashboards"
out.mkdir(exist_ok=True)
for d in (overview, sensor, video):
    (out / f"{d['uid']}.json").write_text(json.dumps(d, indent=2) + "\n")
    print(out / f"{d['uid']}.json", len([p for p in d["panels"] if p["type"] != "row"]), "panels")
