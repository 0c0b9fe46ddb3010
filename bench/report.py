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
    "us/req",
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


def workload_table(workload: Workload, results: list[dict], ref: str = "ours") -> str:
    """results: the records of this workload, one per server (status ok / skipped / failed); `x ours` is each
    server's req/s over the `ref` server's."""
    ours = next((r for r in results if r["server"] == ref and r["status"] == "ok"), None)
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
                f"{s.get('cpu_us_per_req', 0):.0f}",
                f"{s['peak_rss_mb']:.0f}",
                ratio,
            ]
        )
    text = f"\n## {workload.title}  [{workload.key}: {workload.load.path}, {workload.threads} app threads]\n"
    if ref != "ours":
        text += f"(x ours = req/s over {ref}'s)\n"
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


def gil_table(plan: list[Workload], results: list[dict], base_name: str, peer_names: set[str]) -> str:
    """--gil-compare: per workload and app-thread count, ours on the default CPython, the free-threaded build
    with the GIL on and off (req/s, CPU % of the server, CPU us per request) and the fastest peer on the
    free-threaded build; then each at its best thread count."""
    rows = [
        [
            "workload",
            "thr",
            f"{base_name} req/s",
            "GIL on",
            "GIL off",
            "off/on",
            f"cpu % {base_name}/on/off",
            "wrk cpu % on/off",
            f"us/req {base_name}/on/off",
            "fastest peer (3.13t)",
            "off/peer",
        ]
    ]

    def get(server: str, key: str) -> dict | None:
        return next(
            (
                r["summary"]
                for r in results
                if r["server"] == server and r["workload"] == key and r["status"] == "ok"
            ),
            None,
        )

    def num(s: dict | None, field: str, fmt: str = ".0f") -> str:
        return format(s[field], fmt) if s else "-"

    for w in plan:
        base, on, off = get(base_name, w.key), get("ours-gil-on", w.key), get("ours-gil-off", w.key)
        peers = {n: s for n in peer_names if (s := get(n, w.key))}
        best_name, best = max(peers.items(), key=lambda kv: kv[1]["rps"]) if peers else ("-", None)
        rows.append(
            [
                w.key.rpartition("_t")[0],
                str(w.threads),
                num(base, "rps"),
                num(on, "rps"),
                num(off, "rps"),
                f"{off['rps'] / on['rps']:.2f}" if off and on else "-",
                "/".join(num(s, "server_cpu_pct") for s in (base, on, off)),
                "/".join(num(s, "wrk_cpu_pct") for s in (on, off)),
                "/".join(num(s, "cpu_us_per_req") for s in (base, on, off)),
                f"{best_name} {best['rps']:.0f}" if best else "-",
                f"{off['rps'] / best['rps']:.2f}" if off and best else "-",
            ]
        )
    text = "\n## GIL off vs GIL on (same free-threaded build), the default CPython, and the peers on 3.13t\n"
    return text + _table(rows)
