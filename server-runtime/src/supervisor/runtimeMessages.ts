/**
 * The control channel between the supervisor and one Python runtime: JSON, one object per line, over the
 * socket the runtime sees as fd 3 (`--control-fd 3`). The messages' shapes and the exit codes are the
 * runtime's schema (control_schema.json), generated into contract.generated.ts; this file parses the lines.
 *
 * runtime -> supervisor: ready | error | metrics | requests | requestDetail | reloaded | stopping
 * supervisor -> runtime: {"cmd":"metrics","intervalMs":N} (0 = stop sending snapshots), {"cmd":"requests",
 * "intervalMs":N} (the request log), {"cmd":"requestDetail","thread":T,"seq":S,"worker":W}
 * The request log's shapes are the generated contract's (contract.generated.ts, from control_schema.json).
 */
import type {
  ErrorMessage,
  ReadyMessage,
  RequestDetailCommand,
  RequestDetailMessage,
  RequestsCommand,
  RequestsMessage,
} from '../contract.generated';
import { RUNTIME_MESSAGE_TYPES } from '../contract.generated';
import type { MetricsSnapshot } from '../protocol';

export type { ErrorMessage, ReadyMessage } from '../contract.generated';
export { ExitCode } from '../contract.generated';

export interface MetricsMessage extends Omit<MetricsSnapshot, 'id'> {
  type: 'metrics';
}

export type { RequestDetailMessage, RequestsMessage } from '../contract.generated';

export type RuntimeMessage =
  | ReadyMessage
  | ErrorMessage
  | MetricsMessage
  | RequestsMessage
  | RequestDetailMessage
  | { type: 'reloaded' }
  | { type: 'stopping' };

/** Parses one control line; anything that is not a known message comes back as undefined (and is logged). */
export function parseRuntimeMessage(line: string): RuntimeMessage | undefined {
  if (!line.trim()) return undefined;
  try {
    const value = JSON.parse(line) as { type?: unknown };
    const known: readonly string[] = RUNTIME_MESSAGE_TYPES;
    return typeof value?.type === 'string' && known.includes(value.type)
      ? (value as RuntimeMessage)
      : undefined;
  } catch {
    return undefined;
  }
}

export function metricsCommand(intervalMs: number): string {
  return JSON.stringify({ cmd: 'metrics', intervalMs }) + '\n';
}

export function requestsCommand(intervalMs: number): string {
  const command: RequestsCommand = { cmd: 'requests', intervalMs };
  return JSON.stringify(command) + '\n';
}

export function requestDetailCommand(thread: string, seq: number, worker: number): string {
  const command: RequestDetailCommand = { cmd: 'requestDetail', thread, seq, worker };
  return JSON.stringify(command) + '\n';
}
