/**
 * Relays log lines to the client in batches, and within a budget: under load an access log can produce tens of
 * thousands of lines per second, which would flood the editor's output channel and make the extension host
 * sluggish. Lines are grouped per server and stream for `flushMs`, and past `maxLinesPerSecond` per server the
 * rest of that second is counted instead of sent, with one line saying how many were left out.
 */
import type { LogParams } from '../protocol';

export interface LogRelayOptions {
  flushMs?: number;
  maxLinesPerSecond?: number;
}

export class LogRelay {
  private readonly pending = new Map<string, LogParams>();
  private readonly budget = new Map<string, { windowStart: number; sent: number; dropped: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxLinesPerSecond: number;

  constructor(
    private readonly send: (log: LogParams) => void,
    options: LogRelayOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 100;
    this.maxLinesPerSecond = options.maxLinesPerSecond ?? 2000;
  }

  push(log: LogParams, now = Date.now()): void {
    // Supervisor notes and errors always pass; only the app's own output (access log, stdout) is budgeted.
    const budgeted = log.stream === 'access' || log.stream === 'stdout';
    let lines = log.lines;
    if (budgeted) {
      const b = this.windowFor(log.id, now);
      const room = Math.max(0, this.maxLinesPerSecond - b.sent);
      b.dropped += Math.max(0, lines.length - room);
      lines = lines.slice(0, room);
      b.sent += lines.length;
    }
    if (!lines.length) return;
    const key = `${log.id}\n${log.stream}`;
    const batch = this.pending.get(key);
    if (batch) batch.lines.push(...lines);
    else this.pending.set(key, { id: log.id, stream: log.stream, lines: [...lines] });
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends everything pending now (also called on exit paths). */
  flush(now = Date.now()): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [id, b] of this.budget) {
      if (now - b.windowStart >= 1000) this.reportDropped(id, b);
    }
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.send(batch);
    // Lines were left out this second: make sure the count is reported even if the traffic stops now.
    const waiting = [...this.budget.values()].filter((b) => b.dropped > 0);
    if (waiting.length) {
      const due = Math.min(...waiting.map((b) => b.windowStart + 1000 - now));
      this.timer = setTimeout(() => this.flush(), Math.max(this.flushMs, due));
    }
  }

  private windowFor(id: string, now: number) {
    let b = this.budget.get(id);
    if (!b) this.budget.set(id, (b = { windowStart: now, sent: 0, dropped: 0 }));
    if (now - b.windowStart >= 1000) {
      this.reportDropped(id, b);
      b.windowStart = now;
      b.sent = 0;
    }
    return b;
  }

  private reportDropped(id: string, b: { dropped: number }): void {
    if (!b.dropped) return;
    this.send({
      id,
      stream: 'supervisor',
      lines: [`${b.dropped} log lines not shown (more than ${this.maxLinesPerSecond} lines/s)`],
    });
    b.dropped = 0;
  }
}
