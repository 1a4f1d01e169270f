// What the browser tests share: the real binary on a fresh database, a
// headless Chromium whose pages record any request to another host, the
// API for reading what the pages did, and checks that count failures.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

/// Starts celltrail with `args` (e.g. ['serve', '--demo']) and `env`, waits
/// until `/readyz` answers and its standard output includes `ready`, and
/// launches Chromium. Screenshots go to ../artefacts/screenshots/<shots>.
export async function harness({ args, env = {}, ready = '', shots: label }) {
  const bin = resolve(here, process.env.CELLTRAIL_BIN ?? '../target/debug/celltrail');
  const shots = resolve(here, '../artefacts/screenshots', label);
  mkdirSync(shots, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'celltrail-web-'));
  const databaseUrl = process.env.DATABASE_URL ?? `sqlite://${join(scratch, 'web.db')}?mode=rwc`;
  const port = 18000 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  let failures = 0;
  const pages = [];

  const server = spawn(bin, args, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CELLTRAIL_BIND: `127.0.0.1:${port}`,
      RUST_LOG: 'warn',
      CELLTRAIL_TIMEZONE: process.env.CELLTRAIL_TIMEZONE ?? 'Asia/Shanghai',
      // A fresh database gets its own signing key and checkpoint log: a log
      // left by an earlier run would (rightly) say the ledger was cut.
      CELLTRAIL_LEDGER_KEY_FILE: join(scratch, 'ledger.key'),
      CELLTRAIL_CHECKPOINT_DIR: join(scratch, 'checkpoints'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  server.stdout.on('data', (chunk) => { output += chunk; });
  let started = false;
  for (let i = 0; i < 600 && !started; i += 1) {
    try {
      const answer = await fetch(`${base}/readyz`);
      started = answer.ok && output.includes(ready);
    } catch { /* not yet */ }
    if (!started) await new Promise((r) => setTimeout(r, 100));
  }
  if (!started) throw new Error(`celltrail did not start:\n${output}`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  const h = {
    base,
    shots,
    output: () => output,
    check(condition, message) {
      if (!condition) {
        failures += 1;
        console.error(`  ✗ ${message}`);
      } else {
        console.log(`  ✓ ${message}`);
      }
    },
    fail(error) {
      failures += 1;
      console.error(error);
    },
    /// A page that records every request, refusing none but noting any to
    /// another host; `locale` sets the browser's Accept-Language.
    async newPage(width = 1280, height = 900, locale = 'en-GB') {
      const context = await browser.newContext({ viewport: { width, height }, locale });
      const page = await context.newPage();
      page.foreign = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(base) && !request.url().startsWith('data:')) {
          page.foreign.push(request.url());
        }
      });
      pages.push(page);
      return page;
    },
    async api(path, token, body, method) {
      const response = await fetch(`${base}/api/v1${path}`, {
        method: method ?? (body ? 'POST' : 'GET'),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await response.json();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
      return json;
    },
    async token(username, password) {
      return (await h.api('/auth/login', null, { username, password })).token;
    },
    /// Every page's requests to other hosts, for the last check.
    foreign: () => pages.flatMap((p) => p.foreign),
    /// Stops the browser and the server, removes the scratch files, and
    /// exits 1 if any check failed.
    async finish() {
      await browser.close();
      if (server.exitCode === null) {
        // the server writes its last files as it stops: let it finish first
        const stopped = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([stopped, new Promise((r) => setTimeout(r, 10000))]);
      }
      rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      console.log(failures ? `\n${failures} check(s) failed` : '\nall browser checks passed');
      process.exit(failures ? 1 : 0);
    },
  };
  return h;
}
