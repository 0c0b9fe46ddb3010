/**
 * Metrics flow only while someone looks: each consumer (tree view, panel, status bar, code lens) reports
 * whether it is visible, and this asks the supervisor for the matching stream (server3/setMetricsSubscription),
 * with intervalMs 0 when nothing is visible. The status bar (only while the window has focus) and the code
 * lens (only while a config editor of a running server is visible) are served at a slower pace (>= 1 s).
 */
import type { MetricsSubscriptionParams } from '../../server-runtime/src/protocol';

export type MetricsConsumer = 'tree' | 'panel' | 'statusBar' | 'codeLens';

export class MetricsSubscription {
  private readonly visible = new Set<MetricsConsumer>();
  private serverIds: string[] = [];
  /** The supervisor starts with every stream off, so "off" needs no message. */
  private lastSent = JSON.stringify({ ids: [], intervalMs: 0 });

  constructor(
    private readonly intervalMs: () => number,
    private readonly send: (params: MetricsSubscriptionParams) => Promise<void>,
  ) {}

  setVisible(consumer: MetricsConsumer, visible: boolean): void {
    if (visible) this.visible.add(consumer);
    else this.visible.delete(consumer);
    void this.update();
  }

  /** The servers that are running now (the only ones that can stream). */
  setServers(ids: string[]): void {
    this.serverIds = [...ids].sort();
    void this.update();
  }

  desired(): MetricsSubscriptionParams {
    let intervalMs = 0;
    if (this.visible.has('tree') || this.visible.has('panel')) intervalMs = this.intervalMs();
    // The status bar and the code lens show one rate each: a slow stream is enough.
    else if (this.visible.has('statusBar') || this.visible.has('codeLens'))
      intervalMs = Math.max(1000, this.intervalMs());
    const ids = intervalMs > 0 ? this.serverIds : [];
    return { ids, intervalMs: ids.length ? intervalMs : 0 };
  }

  /** Forget what was sent (after the language server restarted) and send again. */
  async resend(): Promise<void> {
    this.lastSent = '';
    await this.update();
  }

  private async update(): Promise<void> {
    const params = this.desired();
    const key = JSON.stringify(params);
    if (key === this.lastSent) return;
    this.lastSent = key;
    try {
      await this.send(params);
    } catch {
      this.lastSent = ''; // the server is down; the next change or a resend tries again
    }
  }
}
