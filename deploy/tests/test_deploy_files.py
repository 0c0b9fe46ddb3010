"""What a user copies from deploy/ is checked by the programs that will read it, and against each other:

- Kubernetes manifests against the API schemas that kubernetes-validate bundles (strict: an unknown field is
  an error), on the oldest version they claim (1.30: the preStop sleep action) and the newest; the pieces
  agree (probes on the STATS port of the ConfigMap's config, /ready for readiness and /health for liveness,
  terminationGracePeriodSeconds covering preStop + SHUTDOWN_TIMEOUT, selectors matching the pod labels);
- the configs pass the runtime's own `--check-config`;
- systemd units by `systemd-analyze verify`, nginx by `nginx -t`, HAProxy by `haproxy -c`, Prometheus by
  `promtool check config` (all from Debian);
- the Grafana dashboard is a dashboard (JSON, panels, targets) whose queries use only metric names the
  runtime's /metrics exports (read from a running server). Each query also runs against real data in
  test_multi_instance.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time

import kubernetes_validate
import pytest
import yaml
from harness import DEPLOY_DIR, HOST_CONFIG, METRIC_NAME, RUNTIME_DIR, Instance, config_values, http_get

K8S_DIR = DEPLOY_DIR / "kubernetes"
CORE_MANIFESTS = ["configmap.yaml", "deployment.yaml", "service.yaml", "poddisruptionbudget.yaml"]


def load(name: str) -> dict:
    return yaml.safe_load((K8S_DIR / name).read_text())


def check_config(text: str, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "check.config"
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "Server_3_free_threads", "--check-config", "--config", str(path)],
        env={"PYTHONPATH": str(RUNTIME_DIR), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def need(program: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}" if shutil.which(f"/usr/sbin/{program}") else None)
    if path is None:  # a failure, not a skip: scripts/setup.sh installs them
        pytest.fail(f"{program} is not installed: run `bash scripts/setup.sh`")
    return path


# ---- Kubernetes ----


@pytest.mark.parametrize("version", ["1.30.0", kubernetes_validate.latest_version()])
@pytest.mark.parametrize("name", CORE_MANIFESTS)
def test_manifest_is_valid_against_the_kubernetes_schema(name, version):
    kubernetes_validate.validate(load(name), version, strict=True)  # raises ValidationError


def test_the_validator_rejects_what_kubernetes_would():
    """The check can fail: a misspelt probe field and a port given as a number string are refused."""
    deployment = load("deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["periodSecond"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
    deployment = load("deployment.yaml")
    deployment["spec"]["replicas"] = "3"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_the_kubernetes_pieces_agree_with_each_other_and_with_the_config(tmp_path):
    config_text = load("configmap.yaml")["data"]["server3.config"]
    config = config_values(config_text)
    checked = check_config(config_text, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    stats_port = int(config["STATS"].rpartition(":")[2])
    assert config["STATS"].startswith("0.0.0.0:") and config["HOST"] == "0.0.0.0"  # reachable in the pod

    deployment = load("deployment.yaml")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(config["PORT"]), "stats": stats_port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "stats"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "stats"}
    assert container["startupProbe"]["httpGet"]["port"] == "stats"
    assert "--config" in container["command"]
    mount = container["volumeMounts"][0]["mountPath"]
    assert container["command"][container["command"].index("--config") + 1] == f"{mount}/server3.config"
    # SIGTERM comes after preStop; the drain then takes up to SHUTDOWN_TIMEOUT; SIGKILL at the grace period
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert grace >= pre_stop + float(config["SHUTDOWN_TIMEOUT"]) + 1, (grace, pre_stop, config)
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(stats_port)
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    service = load("service.yaml")
    assert service["spec"]["selector"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)
    budget = load("poddisruptionbudget.yaml")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_the_service_monitor_scrapes_the_services_stats_port():
    """A Prometheus Operator resource: kubernetes-validate has no schema for its CRD, so its fields are
    checked here against the Service it selects."""
    monitor = load("servicemonitor.yaml")
    service = load("service.yaml")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["kind"] == "ServiceMonitor"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert set(monitor["spec"]) == {"selector", "endpoints"}
    for endpoint in monitor["spec"]["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval"}
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        assert endpoint["path"] == "/metrics"


# ---- systemd, nginx, HAProxy, Prometheus ----


def test_the_host_config_passes_the_runtimes_check(tmp_path):
    text = (DEPLOY_DIR / "server3.config").read_text()
    checked = check_config(text, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("unit_dir", ["systemd", "systemd/socket-activated"])
def test_systemd_units_verify(unit_dir, tmp_path):
    need("systemd-analyze")
    config = HOST_CONFIG
    units = []
    for source in sorted((DEPLOY_DIR / unit_dir).glob("server3.*")):
        text = source.read_text()
        if source.suffix == ".service":
            timeout = int(re.search(r"^TimeoutStopSec=(\d+)$", text, re.M).group(1))
            stop = float(config.get("DRAIN_DELAY", 0)) + float(config["SHUTDOWN_TIMEOUT"])
            assert timeout >= stop + 5, "SIGKILL before the drain's end"
            assert "Type=notify" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
            # verify checks that ExecStart's program exists: this machine's Python stands in for the venv's
            text = text.replace("/srv/myapp/venv/bin/python", sys.executable)
        if source.suffix == ".socket":
            assert len(re.findall(r"^ListenStream=", text, re.M)) == 1  # the server takes exactly one
        (tmp_path / source.name).write_text(text)
        units.append(str(tmp_path / source.name))
    assert units
    verify = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    # it exits 0 on unknown keys and bad values too, and says so: any word from it is a failure
    assert verify.returncode == 0 and not verify.stdout.strip() and not verify.stderr.strip(), verify


def test_systemd_verify_can_fail(tmp_path):
    need("systemd-analyze")
    text = (
        (DEPLOY_DIR / "systemd" / "server3.service").read_text().replace("Restart=on-failure", "Restart=no-")
    )
    (tmp_path / "server3.service").write_text(text.replace("/srv/myapp/venv/bin/python", sys.executable))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "server3.service")], capture_output=True, text=True
    )
    assert "restart specifier" in verify.stderr


def test_nginx_accepts_the_upstream_example(tmp_path):
    nginx = need("nginx")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {DEPLOY_DIR / 'nginx' / 'server3.conf'};\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "test is successful" in checked.stderr, checked.stderr


def test_haproxy_accepts_its_example():
    haproxy = need("haproxy")
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY_DIR / "haproxy" / "haproxy.cfg")], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "Configuration file is valid" in checked.stdout, checked
    text = (DEPLOY_DIR / "haproxy" / "haproxy.cfg").read_text()
    assert "http-check send meth GET uri /ready" in text and "check port 9100" in text
    # The instance serves on for DRAIN_DELAY after SIGTERM: HAProxy must have seen a 503 by then (a check
    # every `inter` while UP, `fall` of them in a row), with a second to spare for the check itself.
    inter = float(re.search(r"default-server .*\binter (\d+)s\b", text).group(1))
    fall = int(re.search(r"default-server .*\bfall (\d+)\b", text).group(1))
    drain_delay = float(HOST_CONFIG["DRAIN_DELAY"])
    assert drain_delay >= inter * fall + 1, (inter, fall, drain_delay)


def test_promtool_accepts_the_prometheus_config():
    promtool = need("promtool")
    checked = subprocess.run(
        [promtool, "check", "config", str(DEPLOY_DIR / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Debian's Prometheus is built without Kubernetes discovery, so promtool cannot read this one: its shape
    # and its use of the pod annotations of deployment.yaml are checked here.
    k8s = yaml.safe_load((DEPLOY_DIR / "prometheus" / "prometheus-kubernetes.yml").read_text())
    job = k8s["scrape_configs"][0]
    assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
    sources = {label for rule in job["relabel_configs"] for label in rule["source_labels"]}
    annotations = load("deployment.yaml")["spec"]["template"]["metadata"]["annotations"]
    for annotation in annotations:
        name = "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-zA-Z0-9_]", "_", annotation)
        assert name in sources, name


# ---- Grafana ----


def test_the_dashboard_queries_only_metrics_the_runtime_exports(tmp_path):
    dashboard = json.loads((DEPLOY_DIR / "grafana" / "server3-dashboard.json").read_text())
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "job", "instance"}
    exprs = []
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"]) and panel["gridPos"]["x"] + panel["gridPos"][
            "w"
        ] <= 24
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        exprs += [t["expr"] for t in panel["targets"]]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}

    # what a running server's /metrics has, with WORKERS=2 (the master's exposition)
    instance = Instance("grafana", tmp_path, held=False, workers=2)
    try:
        instance.start()
        instance.wait_ready()
        text = ""
        for _ in range(100):  # the master has both workers' snapshots a second after they are ready
            text = http_get(instance.stats_port, "/metrics")[1].decode()
            if text.count("server3_info{") == 2:
                break
            time.sleep(0.05)
    finally:
        instance.close()
    exported = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            exported |= {name + s for s in ("_bucket", "_sum", "_count")} if kind == "histogram" else {name}
    assert used <= exported, used - exported
    # the per-thread families are all on the dashboard (waiting is the rest of busy: not drawn)
    per_thread = {n for n in exported if n.startswith("server3_thread_")}
    assert per_thread - {"server3_thread_wait_seconds_total"} <= used
