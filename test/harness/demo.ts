/**
 * The demo behind `npm start` (scripts/demo.sh builds and packages first): code-server on 127.0.0.1 with the
 * packaged extension installed and examples/hello open, until Ctrl+C / SIGTERM / SIGHUP, then everything it started
 * is killed (code-server's whole process group, including extension hosts and the Python servers they run).
 *
 * It lives next to the test harness because it is the same launcher the UI tests use: what the demo shows is what
 * the tests test. Env: DEMO_PORT (default 8080; a free port if that one is taken), DEMO_FOLDER (default
 * examples/hello).
 */
import * as path from 'node:path';
import { VSIX_PATH } from './build';
import { REPO_ROOT, startCodeServer } from './codeServer';
import { freePort, isPortOpen } from './freePort';

async function choosePort(): Promise<number> {
  const wanted = Number(process.env.DEMO_PORT ?? 8080);
  if (!(await isPortOpen(wanted))) return wanted;
  const port = await freePort();
  console.log(`demo: port ${wanted} is taken, using ${port}`);
  return port;
}

async function main(): Promise<void> {
  const folder = path.resolve(REPO_ROOT, process.env.DEMO_FOLDER ?? 'examples/hello');
  const cs = await startCodeServer({ workspace: folder, vsixes: [VSIX_PATH], port: await choosePort() });
  console.log('');
  console.log(
    `demo: VS Code (code-server) with Server 3 Free Threads, workspace ${path.relative(REPO_ROOT, folder)}`,
  );
  console.log(`demo: open ${cs.origin}/?folder=${encodeURI(folder)}`);
  console.log('demo: then F1 -> "Server 3: Start", and "Server 3: Show Live Metrics"');
  console.log(`demo: code-server log: ${cs.logFile}`);
  console.log('demo: Ctrl+C (or SIGTERM) stops everything');
  // Signals are handled by the launcher (kill the process group, then exit). Here: end if code-server dies alone.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) console.log(`demo: ${signal}: stopping code-server and everything it started`);
      stopping = true;
    });
  }
  // `npm start` runs us under npm -> sh; a SIGTERM sent to npm alone kills npm and sh without reaching us, and we
  // would be re-parented to init. So a changed parent process also means: stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      stopping = true;
      console.log('demo: the parent process (npm) is gone: stopping code-server and everything it started');
      process.kill(process.pid, 'SIGTERM');
    }
  }, 500).unref();
  cs.process.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`demo: code-server exited (code ${code}, signal ${signal})`);
    void cs.stop().finally(() => process.exit(1));
  });
}

main().catch((err) => {
  console.error(`demo: ${(err as Error).message ?? err}`);
  process.exit(1);
});
