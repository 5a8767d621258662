'use strict';
// Shared helpers for the integration tests: start and stop a real `switchboard serve` on a
// fresh data directory, make HTTP requests against it, and point the official `twilio` npm
// client at it.
//
// Environment (set by ctest, see tests/CMakeLists.txt):
//   SWITCHBOARD_BIN  path to the switchboard binary
//   NODE_PATH        tests/clients/node_modules (the `twilio` package)

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BIN = process.env.SWITCHBOARD_BIN;

// With SWITCHBOARD_TEST_LOG_DIR set (ctest sets it), every daemon's output goes to a file there
// and every secret the tests see (auth tokens, API key secrets, passwords sent or received) to
// a .secrets file beside it: tests/secrets_in_logs.js, run after the whole suite, checks that
// no log line holds any of them.
const LOG_DIR = process.env.SWITCHBOARD_TEST_LOG_DIR;
const LOG_TAG = `${path.basename(process.argv[1] || 'node', '.test.js')}-${process.pid}`;
let logCount = 0;
const SECRET_FIELDS = new Set(['auth_token', 'secret', 'secondary_auth_token', 'password', 'webhook_secret',
  'Password', 'AuthToken', 'authToken', 'secondaryAuthToken']);

function recordSecret(value) {
  if (!LOG_DIR || typeof value !== 'string' || value.length < 8) return;
  fs.appendFileSync(path.join(LOG_DIR, `${LOG_TAG}.secrets`), value + '\n');
}

// Records the secret-named fields of a JSON value or a form (URLSearchParams-like object).
function recordSecretsIn(value, depth = 0) {
  if (!LOG_DIR || value === null || typeof value !== 'object' || depth > 6) return;
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(k)) recordSecret(v);
    else if (typeof v === 'object') recordSecretsIn(v, depth + 1);
  }
}

// Fixed test credentials for the main account.
const MAIN_ACCOUNT_SID = 'AC' + '0123456789abcdef'.repeat(2);
const MAIN_AUTH_TOKEN = 'integration-test-token-0123456789';

const START_TIMEOUT_MS = 20000; // ASan builds start slowly
const STOP_TIMEOUT_MS = 20000; // graceful drain is bounded at 10 s by the daemon
const API = '/2010-04-01';

// Every daemon and temp dir made by this process, so a crash of the test file still cleans up.
const liveDaemons = new Set();
const tempDirs = new Set();

process.on('exit', () => {
  for (const d of liveDaemons) {
    try {
      d.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
});

function makeDataDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-it-'));
  tempDirs.add(dir);
  return dir;
}

function removeDataDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

class Daemon {
  constructor({ proc, baseUrl, accountSid, authToken, dataDir, ownsDataDir, ca }) {
    this.proc = proc;
    this.ca = ca; // the test CA when the daemon serves HTTPS
    this.baseUrl = baseUrl;
    this.accountSid = accountSid;
    this.authToken = authToken;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.stdout = '';
    this.stderr = '';
    this.exitCode = undefined; // number, or null when killed by a signal
    this.exitSignal = undefined;
    this.exited = new Promise((resolve) => {
      const done = (code, signal) => {
        if (this.exitCode !== undefined) return;
        this.exitCode = code;
        this.exitSignal = signal;
        liveDaemons.delete(this);
        resolve({ code, signal });
      };
      proc.once('exit', done);
      // A failed spawn emits 'error' and possibly no 'exit'.
      proc.once('error', (err) => {
        this.spawnError = err;
        if (proc.pid === undefined) done(null, null);
      });
    });
  }

  get running() {
    return this.exitCode === undefined;
  }

  get port() {
    return Number(new URL(this.baseUrl).port);
  }

  // Sends `signal` and waits (bounded) for the process to exit; returns the exit code
  // (null when the process died of a signal, e.g. SIGKILL; see exitSignal).
  async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
    if (this.running) {
      this.proc.kill(signal);
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.proc.kill('SIGKILL');
        await this.exited;
        throw new Error(
          `switchboard did not exit within ${timeoutMs} ms of ${signal}; killed it\n` +
            `stderr:\n${this.stderr.slice(-4000)}`,
        );
      }
    }
    return this.exitCode;
  }

  // Kills the process if it is still running and removes the data dir it created.
  async cleanup() {
    if (this.running) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    if (this.ownsDataDir) removeDataDir(this.dataDir);
  }

  // Basic auth header value for a SID and token (default: the main account).
  auth(sid = this.accountSid, token = this.authToken) {
    return 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
  }

  // fetch() against the daemon. `body` given as an object is form-encoded (repeating array
  // values). Returns {status, headers, text, json} and never throws on an HTTP status.
  async request(method, pathname, { body, auth, headers = {}, timeoutMs = 15000 } = {}) {
    const h = { ...headers };
    if (auth !== false) h.authorization = auth || this.auth();
    let payload = body;
    if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
      payload = formEncode(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
        h['content-type'] = 'application/x-www-form-urlencoded';
      }
    }
    const res = this.ca
      ? await httpsFetch(this.baseUrl + pathname, { method, headers: h, body: payload, ca: this.ca, timeoutMs })
      : await fetch(this.baseUrl + pathname, {
          method,
          headers: h,
          body: payload,
          signal: AbortSignal.timeout(timeoutMs),
        });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) recordSecretsIn(body);
    recordSecretsIn(json);
    return { status: res.status, headers: res.headers, text, json };
  }

  // Path of an account's resource: accountPath('IncomingPhoneNumbers.json', sid).
  accountPath(child, sid = this.accountSid) {
    return child ? `${API}/Accounts/${sid}/${child}` : `${API}/Accounts/${sid}.json`;
  }
}

// A fetch()-like request over node's https with a private CA (fetch cannot take one): resolves
// with {status, headers (a Headers), text()}; `agent` reuses connections.
function httpsFetch(url, { method = 'GET', headers = {}, body, ca, agent, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, agent, timeout: timeoutMs }, (res) => {
      const socket = res.socket; // released to the agent once the body ends
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const hs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) hs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: hs, socket, text: async () => text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function formEncode(fields) {
  const parts = [];
  for (const [k, v] of Object.entries(fields)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(item)));
    }
  }
  return parts.join('&');
}

// Starts `switchboard serve` on 127.0.0.1 with a free port.
//   t          optional node:test context: the daemon is cleaned up when that test ends
//   dataDir    reuse a data dir (it is then not removed by this daemon's cleanup)
//   accountSid / authToken   main account credentials (default: the fixed test ones)
//   args, env  extra command-line arguments and environment
//   fullOutput keep all of stderr (by default only the last half MiB once it passes 1 MiB)
//   ca         PEM of the CA that signed the daemon's certificate (SWITCHBOARD_HTTP_TLS_* in env):
//              the daemon serves HTTPS and request() trusts this CA
async function startDaemon(t, opts = {}) {
  if (!BIN) throw new Error('SWITCHBOARD_BIN is not set (path to the switchboard binary)');
  if (!fs.existsSync(BIN)) throw new Error(`SWITCHBOARD_BIN ${BIN} does not exist`);
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir || makeDataDir();
  const accountSid = opts.accountSid || MAIN_ACCOUNT_SID;
  const authToken = opts.authToken || MAIN_AUTH_TOKEN;

  // The daemon reads SWITCHBOARD_* variables: start from a clean slate of those.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  }
  Object.assign(env, {
    SWITCHBOARD_ACCOUNT_SID: accountSid,
    SWITCHBOARD_AUTH_TOKEN: authToken,
    ...(opts.env || {}),
  });

  const args = [
    'serve',
    '--data-dir',
    dataDir,
    '--http-listen',
    '127.0.0.1:0',
    '--sip-listen',
    '127.0.0.1:0',
    '--log-level',
    opts.logLevel || 'warn',
    ...(opts.args || []),
  ];
  const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  recordSecret(authToken);
  if (LOG_DIR) {
    const log = fs.createWriteStream(path.join(LOG_DIR, `${LOG_TAG}-${++logCount}.log`));
    proc.stdout.on('data', (chunk) => log.write(chunk));
    proc.stderr.on('data', (chunk) => log.write(chunk));
    proc.once('exit', () => log.end());
  }
  const daemon = new Daemon({ proc, baseUrl: null, accountSid, authToken, dataDir, ownsDataDir, ca: opts.ca });
  liveDaemons.add(daemon);
  if (t) t.after(() => daemon.cleanup());

  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    daemon.stderr += chunk;
    if (!opts.fullOutput && daemon.stderr.length > 1 << 20) daemon.stderr = daemon.stderr.slice(-(1 << 19));
  });

  let timer;
  try {
    daemon.baseUrl = await new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`switchboard did not print "listening:" within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      proc.once('error', (err) => reject(new Error(`cannot run ${BIN}: ${err.message}`)));
      proc.stdout.on('data', (chunk) => {
        daemon.stdout += chunk;
        const m = /^\s*listening:\s+(https?:\/\/127\.0\.0\.1:\d+)\s*$/m.exec(daemon.stdout);
        if (m) resolve(m[1]);
      });
      daemon.exited.then(({ code, signal }) =>
        reject(new Error(`switchboard exited during start-up (code ${code}, signal ${signal})`)),
      );
    });
  } catch (err) {
    await daemon.cleanup();
    err.message += `\nstdout:\n${daemon.stdout}\nstderr:\n${daemon.stderr.slice(-4000)}`;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return daemon;
}

// ---- raw TCP ----

// Opens a TCP connection to 127.0.0.1:port. Resolves with the socket once connected.
// allowHalfOpen: keep our side writable after the peer's FIN (node ends it by default).
function connectRaw(port, timeoutMs = 5000, { allowHalfOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to 127.0.0.1:${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// Collects everything `socket` receives until the peer closes it, an error, or timeoutMs.
// Resolves with {data, closed, error, timedOut}; never rejects.
function readUntilClose(socket, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const chunks = [];
    let settled = false;
    const finish = (extra) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: false, error: null, timedOut: false, ...extra });
    };
    const timer = setTimeout(() => {
      finish({ timedOut: true });
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => finish({ closed: true }));
    socket.on('close', () => finish({ closed: true }));
    socket.on('error', (error) => finish({ closed: true, error }));
  });
}

// Parses the first HTTP response in `buf`: {statusCode, headers (lower-case keys), body}, or
// null when there is no complete status line and header block.
function parseRawResponse(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = text.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  return { statusCode: Number(m[1]), headers, body };
}

// ---- the official twilio client, pointed at a daemon ----

const TWILIO_PREFIX = 'https://api.twilio.com';
const ACCOUNTS_PREFIX = 'https://accounts.twilio.com';

let twilioModule;
function twilioLib() {
  if (!twilioModule) twilioModule = require('twilio');
  return twilioModule;
}

// A RequestClient whose requests go to the daemon instead of api.twilio.com. Anything else
// (another host, an edge/region rewrite) is refused so that no test ever leaves 127.0.0.1.
function daemonHttpClient(baseUrl, opts = {}) {
  const { RequestClient } = twilioLib();
  class DaemonRequestClient extends RequestClient {
    request(reqOpts) {
      let uri = String(reqOpts.uri);
      // accounts.twilio.com (auth token rotation) is served under /accounts.
      if (uri.startsWith(ACCOUNTS_PREFIX + '/')) uri = TWILIO_PREFIX + '/accounts' + uri.slice(ACCOUNTS_PREFIX.length);
      if (!uri.startsWith(TWILIO_PREFIX + '/')) {
        return Promise.reject(
          new Error(`refusing a request to ${uri}: only ${TWILIO_PREFIX} is redirected to the daemon`),
        );
      }
      recordSecretsIn(reqOpts.data);
      return super.request({ ...reqOpts, uri: baseUrl + uri.slice(TWILIO_PREFIX.length) }).then((res) => {
        try {
          recordSecretsIn(typeof res.body === 'string' ? JSON.parse(res.body) : res.body);
        } catch {
          // not JSON
        }
        return res;
      });
    }
  }
  return new DaemonRequestClient(opts);
}

// twilio(sid, token, {httpClient, accountSid}) talking to `daemon`.
function twilioClient(daemon, sid = daemon.accountSid, token = daemon.authToken, opts = {}) {
  const twilio = twilioLib();
  return twilio(sid, token, {
    httpClient: daemonHttpClient(daemon.baseUrl, daemon.ca ? { ca: daemon.ca } : {}),
    ...(opts.accountSid ? { accountSid: opts.accountSid } : {}),
  });
}

module.exports = {
  API,
  MAIN_ACCOUNT_SID,
  MAIN_AUTH_TOKEN,
  Daemon,
  startDaemon,
  makeDataDir,
  removeDataDir,
  formEncode,
  httpsFetch,
  connectRaw,
  readUntilClose,
  parseRawResponse,
  daemonHttpClient,
  twilioClient,
  twilioLib,
};
