/** The webview's bounded history (extension/webview/ringBuffer.ts). */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RingBuffer } from '../../extension/webview/ringBuffer';

describe('RingBuffer', () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    assert.deepEqual(ring.toArray(), []);
    for (let i = 1; i <= 7; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [5, 6, 7]);
    assert.equal(ring.length, 3);
    assert.equal(ring.last(), 7);
  });

  it('stays bounded over a long run (hours at 2 points/s)', () => {
    const ring = new RingBuffer<{ t: number }>(300);
    for (let i = 0; i < 7200 * 2; i++) ring.push({ t: i });
    assert.equal(ring.length, 300);
    assert.equal(ring.toArray()[0].t, 7200 * 2 - 300);
  });

  it('rejects a useless capacity', () => {
    assert.throws(() => new RingBuffer(0));
  });
});
