/** Metrics flow only while a view is visible (extension/src/metricsSubscription.ts). */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricsSubscriptionParams } from '../../server-runtime/src/protocol';
import { MetricsSubscription } from '../../extension/src/metricsSubscription';

describe('MetricsSubscription', () => {
  it('asks for the configured interval while a view is visible, 0 when none is', async () => {
    const sent: MetricsSubscriptionParams[] = [];
    const sub = new MetricsSubscription(
      () => 500,
      async (p) => void sent.push(p),
    );
    sub.setServers(['b', 'a']);
    sub.setVisible('tree', true);
    sub.setVisible('panel', true);
    sub.setVisible('tree', false);
    sub.setVisible('panel', false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [
      { ids: ['a', 'b'], intervalMs: 500 },
      { ids: [], intervalMs: 0 },
    ]);
  });

  it('serves the status bar alone at 1 s at most, and nothing without running servers', () => {
    const sub = new MetricsSubscription(
      () => 200,
      async () => undefined,
    );
    sub.setVisible('statusBar', true);
    assert.deepEqual(sub.desired(), { ids: [], intervalMs: 0 });
    sub.setServers(['x']);
    assert.deepEqual(sub.desired(), { ids: ['x'], intervalMs: 1000 });
    sub.setVisible('panel', true);
    assert.deepEqual(sub.desired(), { ids: ['x'], intervalMs: 200 });
  });

  it('serves the code lens like the status bar: slowly, and alone when nothing else looks', () => {
    const sub = new MetricsSubscription(
      () => 200,
      async () => undefined,
    );
    sub.setServers(['x']);
    sub.setVisible('codeLens', true);
    assert.deepEqual(sub.desired(), { ids: ['x'], intervalMs: 1000 });
    sub.setVisible('tree', true);
    assert.deepEqual(sub.desired(), { ids: ['x'], intervalMs: 200 });
    sub.setVisible('tree', false);
    sub.setVisible('codeLens', false);
    assert.deepEqual(sub.desired(), { ids: [], intervalMs: 0 });
  });

  it('sends again after a failed send (language server was down)', async () => {
    let fail = true;
    const sent: MetricsSubscriptionParams[] = [];
    const sub = new MetricsSubscription(
      () => 500,
      async (p) => {
        if (fail) throw new Error('down');
        sent.push(p);
      },
    );
    sub.setServers(['x']);
    sub.setVisible('tree', true);
    await new Promise((r) => setImmediate(r));
    fail = false;
    await sub.resend();
    assert.deepEqual(sent, [{ ids: ['x'], intervalMs: 500 }]);
  });
});
