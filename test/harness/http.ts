/** Real HTTP from the test process to the app under test (loopback only). */
import * as http from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

export function httpGet(url: string, timeoutMs = 5000): Promise<HttpResult> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) throw new Error(`not a loopback URL: ${url}`);
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** `count` GETs, `parallel` at a time; returns how many answered 200. */
export async function burst(url: string, count: number, parallel = 4): Promise<number> {
  let ok = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      if ((await httpGet(url)).status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ok;
}
