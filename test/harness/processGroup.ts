/**
 * Killing a child's whole process group. The child must be spawned with `detached: true` (setsid), so its pid is
 * also its process group id; `kill(-pgid)` then reaches every process it started (extension hosts, language
 * servers, Python servers), which a plain `child.kill()` would leave running.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is already gone
  }
}

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, then SIGKILL after `graceMs` if anything in it is still alive. */
export async function killProcessGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (!signalGroup(child, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (groupAlive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signalGroup(child, 'SIGKILL');
}

/**
 * Makes sure the group dies with us: on normal exit, on an uncaught error, and on SIGINT/SIGTERM/SIGHUP (which
 * would otherwise end Node without running 'exit' handlers for the signal's default action). Returns a function
 * that removes the handlers again.
 */
export function killProcessGroupOnExit(child: ChildProcess, envMarker?: [string, string]): () => void {
  const onExit = (): void => {
    signalGroup(child, 'SIGKILL');
    if (envMarker) killProcessesWithEnv(...envMarker);
  };
  // On a signal, SIGTERM first so the extension can deactivate and stop the Python servers it started (they run
  // in their own process groups), then SIGKILL whatever is left.
  const onSignal = (signal: NodeJS.Signals): void => {
    void killProcessGroup(child)
      .then(() => envMarker && killProcessesWithEnv(...envMarker))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('exit', onExit);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    process.off('exit', onExit);
    for (const s of signals) process.off(s, onSignal);
  };
}

/**
 * Pids of processes whose environment holds `name=value`. Children that left our process group (the supervisor
 * starts each Python server in its own group) still inherit the environment, so this finds them on Linux.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}\0`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`${fs.readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(needle))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** SIGKILLs every process carrying `name=value` in its environment; returns the pids it killed. */
export function killProcessesWithEnv(name: string, value: string): number[] {
  const pids = pidsWithEnv(name, value);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids;
}
