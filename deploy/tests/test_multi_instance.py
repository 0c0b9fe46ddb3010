"""Three Server 3 instances behind Debian's HAProxy (deploy/haproxy/haproxy.cfg: health checks on STATS
/ready), scraped by Debian's Prometheus, under a steady bounded load of GETs and POSTs:

- instance a (WORKERS=2, its own bind) is reloaded (SIGHUP, with a new version of its app): no request fails;
- instance b (socket-activated: this test holds its listening socket as a systemd .socket unit would) is
  stopped (SIGTERM) and started again: no request fails, because HAProxy sees /ready's 503 and stops sending
  while b still serves (DRAIN_DELAY of deploy/server3.config, which every instance here uses);
- instance c (its own bind) is killed (SIGKILL) and started again, as Restart=on-failure would: only
  requests it held may fail, and only those HAProxy may not retry (POSTs, which are not idempotent);
- Prometheus scraped all three: its per-thread busy series equal what each STATS /stats JSON says, and
  every query of the Grafana dashboard runs and returns data.

Then the same three behind Debian's nginx (deploy/nginx/server3.conf, passive checks): b stopped and started
twice, c killed and started again, with the same verdicts.

Bounded: about 25 s of load at 100 requests/s in all, every process killed (its process group) at the end."""

from __future__ import annotations

import shutil
import signal
import time

import pytest
from harness import (
    DEPLOY_DIR,
    HOST_CONFIG,
    HAProxy,
    Instance,
    Load,
    Nginx,
    PortTaken,
    Prometheus,
    dashboard_queries,
    failed,
    http_get,
    retried_requests,
    wait_until,
)

RATE, CLIENTS, POST_SHARE, WORK_MS = 100, 12, 0.25, 50
RESTARTS = 3  # SIGTERM + start cycles of instance b


def need(program: str) -> None:
    if shutil.which(program) is None:  # a failure, not a skip: scripts/setup.sh installs them
        pytest.fail(
            f"{program} is not installed: run `bash scripts/setup.sh` (apt packages haproxy, prometheus)"
        )


def summary(name: str, results: list[tuple]) -> str:
    bad = failed(results)
    posts = sum(1 for r in results if r[2] == "POST")
    kinds = sorted({f"{r[2]} {r[3]}" for r in bad})
    return f"{name:<28} {len(results):>6} requests ({posts} POST) {len(bad):>3} failed" + (
        f"  [{', '.join(kinds)}]" if kinds else ""
    )


@pytest.fixture
def instances(tmp_path):
    """a (WORKERS=2, its own bind), b (socket-activated), c (its own bind), each serving and ready."""
    instances = []
    try:
        for attempt in range(3):  # again with other ports if another process took one meanwhile
            workdir = tmp_path / f"try{attempt}"
            instances = [
                Instance("a", workdir, held=False, workers=2),
                Instance("b", workdir, held=True),
                Instance("c", workdir, held=False),
            ]
            try:
                for instance in instances:
                    instance.start()
                for instance in instances:
                    instance.wait_ready()
                break
            except PortTaken:
                if attempt == 2:
                    raise
                for instance in instances:
                    instance.close()
        yield instances
    finally:
        for instance in instances:
            instance.close()


@pytest.fixture
def cluster(tmp_path, instances):
    need("haproxy")
    need("prometheus")
    started = []
    try:
        haproxy = HAProxy(tmp_path, instances)
        started.append(haproxy.process)
        prometheus = Prometheus(tmp_path, instances)
        started.append(prometheus.process)
        yield instances, haproxy, prometheus
    finally:
        for process in started:
            process.kill_group()


def dump_logs(processes) -> None:
    """What each program said, for a failure's report."""
    for process in processes:
        print(f"---- {process.name} (pid {process.pid}, {'running' if process.alive() else 'exited'}):")
        print(process.text()[-4000:])


def test_reload_restart_and_kill_behind_haproxy_with_prometheus(cluster, capsys):
    try:
        scenario(cluster, capsys)
    except BaseException:
        instances, haproxy, prometheus = cluster
        dump_logs([i.process for i in instances] + [haproxy.process, prometheus.process])
        raise


def scenario(cluster, capsys) -> None:
    a, b, c = cluster[0]
    haproxy, prometheus = cluster[1], cluster[2]
    wait_until(lambda: set(haproxy.server_states().values()) == {"UP"}, 20, "HAProxy to see a, b, c UP")
    load = Load(haproxy.port, RATE, CLIENTS, POST_SHARE, WORK_MS)
    figures = []
    states_seen: list[dict] = []
    try:
        load.start()
        t0 = time.monotonic()
        wait_until(lambda: len(load.between(t0, time.monotonic())) >= RATE * 3, 10, "3 s of load")
        t1 = time.monotonic()
        assert {r[4].split()[0] for r in load.between(t0, t1) if r[4]} == {"a", "b", "c"}, "all serve"

        # -- a: SIGHUP reload with a new app version, under load
        a.write_app("2")
        a.signal(signal.SIGHUP)
        wait_until(lambda: a.process.text().count("reloaded: APP=app") >= 2, 15, "a's two workers reloaded")
        wait_until(
            lambda: any(r[4] == "a 2" for r in load.between(t1, time.monotonic())), 10, "a serving version 2"
        )
        time.sleep(1.0)  # a second of load after the reload belongs to this phase too
        t2 = time.monotonic()

        # -- b: SIGTERM (drain), then started again on the socket this test holds; RESTARTS times
        for _ in range(RESTARTS):
            old_b = b.process.pid
            signalled = time.monotonic()
            b.signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            seen = {}
            while b.process.alive() and time.monotonic() < deadline:
                seen.setdefault(haproxy.server_states(detail=True).get("b"), time.monotonic() - signalled)
                time.sleep(0.02)
            states_seen.append(seen)
            assert b.process.proc.wait(1) == 0, b.process.text()[-2000:]
            b.start()
            b.wait_ready()
            assert b.process.pid != old_b
            wait_until(lambda: haproxy.server_states().get("b") == "UP", 15, "HAProxy to see b UP again")
            wait_until(
                lambda: any(r[4].startswith("b ") for r in load.between(time.monotonic() - 1, 1e12)), 10, "b"
            )
        t3 = time.monotonic()

        # -- c: SIGKILL, then started again (systemd's Restart=on-failure)
        retried_before = len(retried_requests(haproxy.process.text()))
        killed_at = time.monotonic()
        c.signal(signal.SIGKILL)
        c.process.proc.wait(5)
        time.sleep(1.0)  # HAProxy notices (refused connections, failed checks) while the load goes on
        c.start()
        c.wait_ready()
        wait_until(lambda: haproxy.server_states().get("c") == "UP", 15, "HAProxy to see c UP again")
        t4 = time.monotonic()
        retried = len(retried_requests(haproxy.process.text())) - retried_before

        # -- the dashboard's queries while the load still runs (rates over the last 10 s)
        wait_until(lambda: len(load.between(t4, time.monotonic())) >= RATE * 2, 10, "2 s more of load")
        empty = []
        for expr in dashboard_queries(DEPLOY_DIR / "grafana" / "server3-dashboard.json"):
            if not prometheus.query(expr):
                empty.append(expr)
    finally:
        load.stop()
    t5 = time.monotonic()
    # Each request in the phase it started in, except those in flight when c was killed (they started a
    # moment before): those belong to the kill.
    held = [r for r in load.between(0, killed_at) if r[1] > killed_at]
    baseline = load.between(t0, t1)
    reload_phase = load.between(t1, t2)
    restart_phase = [r for r in load.between(t2, t3) if r not in held]
    kill_phase = [r for r in load.between(t3, t4) if r not in held] + held
    after = load.between(t4, t5)
    everything = load.between(0, t5)
    figures.append(summary("baseline (a, b, c up)", baseline))
    figures.append(summary("a: SIGHUP reload", reload_phase))
    figures.append(summary(f"b: {RESTARTS} x SIGTERM, start", restart_phase))
    figures.append(
        summary("c: SIGKILL, start again", kill_phase)
        + f"; {len(held)} in flight at the kill (on a, b or c), {retried} sent again by HAProxy"
    )
    figures.append(summary("after (a, b, c up)", after))
    figures.append(summary("whole run", everything))

    # -- Prometheus vs STATS JSON, per instance, worker and thread, once the load has stopped
    targets = prometheus.api("targets")["activeTargets"]
    assert len(targets) == 3 and all(t["health"] == "up" for t in targets), targets
    time.sleep(2.5)  # at a 1 s scrape interval: every target scraped at least twice after the load stopped
    series = prometheus.query("server3_thread_busy_seconds_total")
    from_prometheus = {
        (s["metric"]["instance"], s["metric"]["worker"], s["metric"]["thread"]): float(s["value"][1])
        for s in series
    }
    from_json = {}
    for instance in (a, b, c):
        for snap in instance.stats():
            for thread in snap["threads"]:
                key = (f"127.0.0.1:{instance.stats_port}", str(snap["worker"]), thread["name"])
                from_json[key] = thread["busySeconds"]
    per_instance = prometheus.query("sum by (instance) (server3_thread_busy_seconds_total)")
    sums = {s["metric"]["instance"]: float(s["value"][1]) for s in per_instance}
    worst = max(abs(from_prometheus.get(k, -1) - v) for k, v in from_json.items())
    queries = len(dashboard_queries(DEPLOY_DIR / "grafana" / "server3-dashboard.json"))
    figures.append(
        f"prometheus: {len(from_prometheus)} per-thread busy series of 3 targets, JSON {len(from_json)};"
        f" largest difference {worst * 1000:.2f} ms; dashboard queries: {queries} run, {len(empty)} empty"
    )
    for cycle, seen in enumerate(states_seen, 1):
        view = ", ".join(f"{state} at +{at:.2f} s" for state, at in seen.items())
        figures.append(f"HAProxy's view of b from SIGTERM {cycle} to its exit: {view}")
    with capsys.disabled():
        print("\n" + "\n".join("deploy: " + line for line in figures))
    # -- the verdicts
    assert not failed(baseline)
    assert not failed(after), failed(after)
    assert len(failed(everything)) == len(failed(kill_phase)), "every failure is one of the kill's"
    assert not failed(reload_phase), failed(reload_phase)
    assert any(r[4] == "a 2" for r in reload_phase), "a served the reloaded app"
    assert not failed(restart_phase), failed(restart_phase)
    # Why none failed: HAProxy took b out on /ready's 503 while b still served (DRAIN_DELAY), so no request
    # met a pooled connection that b's drain closed. Without the delay it lost that race (a POST failed).
    for cycle, seen in enumerate(states_seen, 1):
        down = [at for state, at in seen.items() if state and state.startswith("DOWN")]
        assert down and min(down) < float(HOST_CONFIG["DRAIN_DELAY"]), f"SIGTERM {cycle}: {seen}"
    bad = failed(kill_phase)
    assert all(r[2] == "POST" for r in bad), f"a GET failed: HAProxy should have retried it: {bad}"
    assert all(r[0] < killed_at < r[1] for r in bad), f"a request sent after the kill failed: {bad}"
    assert set(from_prometheus) == set(from_json), set(from_prometheus) ^ set(from_json)
    assert worst < 0.05, (from_prometheus, from_json)
    for instance in (a, b, c):
        key = f"127.0.0.1:{instance.stats_port}"
        expected = sum(v for k, v in from_json.items() if k[0] == key)
        assert abs(sums[key] - expected) < 0.05 * 8, (key, sums[key], expected)
    assert not empty, f"dashboard queries with no data: {empty}"
    assert http_get(a.stats_port, "/ready")[0] == 200


def test_restart_and_kill_behind_nginx(instances, tmp_path, capsys):
    """The nginx example in front of the same three: open-source nginx has no active checks, so it learns of
    a stopped or killed instance from refused or cut connections, and sends the request to the next one
    when the method allows (proxy_next_upstream). b is stopped (SIGTERM) and started again twice, c killed
    and started again: no request fails but POSTs that c held when it died."""
    need("nginx")
    a, b, c = instances
    nginx = Nginx(tmp_path, instances)
    load = None
    try:
        nginx.wait_serving()
        load = Load(nginx.port, RATE, CLIENTS, POST_SHARE, WORK_MS)
        load.start()
        t0 = time.monotonic()
        wait_until(lambda: len(load.between(t0, time.monotonic())) >= RATE * 2, 10, "2 s of load")
        t1 = time.monotonic()
        for _ in range(2):
            b.signal(signal.SIGTERM)
            assert b.process.proc.wait(15) == 0, b.process.text()[-2000:]
            b.start()
            b.wait_ready()
            wait_until(
                lambda: any(r[4].startswith("b ") for r in load.between(time.monotonic() - 1, 1e12)), 10, "b"
            )
        t2 = time.monotonic()
        killed_at = time.monotonic()
        c.signal(signal.SIGKILL)
        c.process.proc.wait(5)
        time.sleep(0.5)
        c.start()
        c.wait_ready()
        # nginx tries c again once fail_timeout (2 s) has passed
        wait_until(
            lambda: any(r[4].startswith("c ") for r in load.between(time.monotonic() - 1, 1e12)), 15, "c"
        )
        t3 = time.monotonic()
        wait_until(lambda: len(load.between(t3, time.monotonic())) >= RATE, 10, "1 s more of load")
    except BaseException:
        dump_logs([i.process for i in instances] + [nginx.process])
        raise
    finally:
        if load is not None:
            load.stop()
        nginx.process.kill_group()
    t4 = time.monotonic()
    held = [r for r in load.between(0, killed_at) if r[1] > killed_at]
    baseline = load.between(t0, t1)
    restart_phase = [r for r in load.between(t1, t2) if r not in held]
    kill_phase = [r for r in load.between(t2, t3) if r not in held] + held
    after = load.between(t3, t4)
    everything = load.between(0, t4)
    figures = [
        summary("baseline (a, b, c up)", baseline),
        summary("b: 2 x SIGTERM, start", restart_phase),
        summary("c: SIGKILL, start again", kill_phase) + f"; {len(held)} in flight at the kill",
        summary("after (a, b, c up)", after),
        summary("whole run", everything),
    ]
    with capsys.disabled():
        print("\n" + "\n".join("deploy (nginx): " + line for line in figures))
    assert not failed(baseline) and not failed(after), failed(everything)
    # Open-source nginx cannot poll /ready, so it keeps sending to b until b's drain closes its pooled
    # keep-alive connections: a POST written on one at that instant is answered 502 (the keep-alive race;
    # nginx never resends a non-idempotent request it has written). At most one such POST per SIGTERM; GETs
    # are resent and never fail. DRAIN_DELAY does not help here (nginx never asks /ready); HAProxy takes b out
    # on /ready's 503 during DRAIN_DELAY, before the drain closes anything, and has none
    # (test_reload_restart_and_kill_behind_haproxy_with_prometheus). docs/deploy.md says so.
    raced = failed(restart_phase)
    assert all(r[2] == "POST" and r[3] == 502 for r in raced) and len(raced) <= 2, raced
    bad = failed(kill_phase)
    assert all(r[2] == "POST" for r in bad), f"a GET failed: nginx should have sent it to the next one: {bad}"
    assert all(r[0] < killed_at < r[1] for r in bad), f"a request sent after the kill failed: {bad}"
    assert len(failed(everything)) == len(bad), "every failure is one of the kill's"
