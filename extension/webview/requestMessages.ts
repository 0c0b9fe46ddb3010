/**
 * Messages between the request panel (extension side, requestPanel.ts) and its webview script (request.ts).
 * Type-only: imported by both, bundles no code.
 */
import type { RequestDetail, RequestRecord } from '../../server-runtime/src/protocol';

/** The stages of a request in pipeline order, with what each means (the runtime's request_log.py). */
export const STAGES = [
  {
    field: 'handoffMs',
    name: 'handoff',
    meaning: 'accepted -> taken by the read thread (first request of a connection)',
  },
  { field: 'readMs', name: 'read', meaning: 'first byte -> request parsed (a slow upload shows here)' },
  { field: 'queueMs', name: 'queue', meaning: 'parsed -> an app thread took it (a full pool shows here)' },
  {
    field: 'appMs',
    name: 'app',
    meaning: "app thread took it -> first byte of the response (the app's own time)",
  },
  { field: 'sendMs', name: 'send', meaning: 'first byte -> last byte sent (a slow reader shows here)' },
  { field: 'lingerMs', name: 'linger', meaning: "the connection's graceful close after its last response" },
] as const;

export interface ShownRequest {
  record: RequestRecord;
  worker: number;
  /** "<config> · worker N" */
  server: string;
  url: string;
  /** null: the server no longer keeps its headers (or it stopped). */
  detail: RequestDetail | null;
}

export type ToRequestWebview = { type: 'request'; request: ShownRequest } | { type: 'copied'; text: string };

export type FromRequestWebview = { type: 'ready' } | { type: 'copyCurl' };
