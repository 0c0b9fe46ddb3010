"""Prints the results tables: each server's numbers and ratio to ours; memory and held connections."""

from workloads import Workload

COLUMNS = [
    "server",
    "req/s",
    "spread",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "sock err",
    "cpu %",
    "peak MB",
    "x ours",
]


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(_fmt_row(r, widths) for r in rows)


def workload_table(workload: Workload, results: list[dict]) -> str:
    """results: the records of this workload, one per server (status ok / skipped / failed)."""
    ours = next((r for r in results if r["server"] == "ours" and r["status"] == "ok"), None)
    ours_rps = ours["summary"]["rps"] if ours else None
    rows = [COLUMNS]
    notes = []
    for r in results:
        if r["status"] != "ok":
            notes.append(f"  {r['server']}: {r['status']}: {r['reason']}")
            continue
        s = r["summary"]
        ratio = f"{s['rps'] / ours_rps:.2f}" if ours_rps else "-"
        rows.append(
            [
                r["server"],
                f"{s['rps']:.0f}",
                f"±{s['spread_pct'] / 2:.0f}%",
                f"{s['p50_ms']:.2f}",
                f"{s['p99_ms']:.2f}",
                str(s["non_2xx"]),
                str(s["socket_errors"]),
                f"{s['server_cpu_pct']:.0f}",
                f"{s['peak_rss_mb']:.0f}",
                ratio,
            ]
        )
    text = f"\n## {workload.title}  [{workload.key}: {workload.load.path}, {workload.threads} app threads]\n"
    text += _table(rows) if len(rows) > 1 else "  (no server measured)"
    return text + ("\n" + "\n".join(notes) if notes else "")


def servers_table(servers: dict) -> str:
    rows = [["server", "idle RSS MB (start + 1 req)", "processes", "held 256 served", "checks"]]
    for name, info in servers.items():
        if info.get("status") != "ok" or "idle_rss_bytes" not in info:
            why = info.get("reason") or "; ".join(info.get("start_failures", []))
            rows.append([name, "-", "-", "-", f"{info.get('status')}: {why}"[:100]])
            continue
        held = info.get("held") or {}
        checks = info.get("checks", [])
        failed = [c["name"] for c in checks if not c["ok"]]
        rows.append(
            [
                name,
                f"{info['idle_rss_bytes'] / 2**20:.1f}",
                str(info.get("idle_processes", "-")),
                f"{held.get('served', '-')}/{held.get('connections', '-')}",
                "all ok" if not failed else "FAILED: " + ", ".join(failed),
            ]
        )
    return "\n## per server: idle memory, 256 held keep-alive connections, correctness\n" + _table(rows)


def summary_table(plan: list[Workload], results: list[dict], peer_names: set[str]) -> str:
    """One line per workload: ours, the fastest peer, nginx, and the ratios the targets are about."""
    rows = [
        ["workload", "ours req/s", "ours p99 ms", "fastest peer", "ours/peer", "nginx req/s", "ours/nginx"]
    ]
    for w in plan:
        here = {r["server"]: r["summary"] for r in results if r["workload"] == w.key and r["status"] == "ok"}
        ours, nginx = here.get("ours"), here.get("nginx")
        peers = {n: s for n, s in here.items() if n in peer_names}
        best_name, best = max(peers.items(), key=lambda kv: kv[1]["rps"]) if peers else ("-", None)
        rows.append(
            [
                w.key,
                f"{ours['rps']:.0f} ±{ours['spread_pct'] / 2:.0f}%" if ours else "not measured",
                f"{ours['p99_ms']:.1f}" if ours else "-",
                f"{best_name} {best['rps']:.0f}" if best else "-",
                f"{ours['rps'] / best['rps']:.2f}" if ours and best else "-",
                f"{nginx['rps']:.0f}" if nginx else "-",
                f"{ours['rps'] / nginx['rps']:.2f}" if ours and nginx else "-",
            ]
        )
    return "\n## summary: ours vs the fastest peer and nginx\n" + _table(rows)
