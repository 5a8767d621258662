'use strict';
// The README's and docs/*.md's examples, run as written against a real daemon: every shell
// block that calls curl (and every block with a docs-test marker) runs with bash, one bash per
// file so that variables set by one example (CL=…, SD=…) reach the next, and every curl in it
// must get a 2xx answer; JavaScript blocks run with node. Python blocks are not run (the
// library is not installed here).
//
// What the test substitutes (nothing else is changed):
//   127.0.0.1:8080, localhost:8080    the test daemon's HTTP address
//   https://NAME.example(.com)/…      a local application in this process, at /NAME/…
//   127.0.0.1:PORT of a server block  a port the kernel picked
//   ./build/release/src/switchboard   $SWITCHBOARD_BIN (and `switchboard` is on PATH)
// The blocks run in a temporary directory holding var/main-account.env in the format the
// daemon writes, and with SID, TOKEN and API exported, as after `. var/main-account.env`.
//
// Markers, an HTML comment on the line(s) before a block:
//   <!-- expect-status: 400 -->                   the block's curls show an error: that status
//   <!-- docs-test: skip (why) -->                only what truly cannot run here (a live call)
//   <!-- docs-test: server 9000 until "TEXT" -->  a local server: started in the background,
//       waited for until it accepts connections on that port, kept until it printed TEXT
//   <!-- docs-test: stream until "TEXT" -->       a streaming curl: started in the background,
//       waited for until its response headers arrived, kept until it printed TEXT

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startDaemon } = require('./lib/daemon');
const { startApp } = require('./lib/app');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT_TIMEOUT_MS = 180000; // a whole file's examples, ASan daemon included
const NODE_TIMEOUT_MS = 60000;

function docFiles() {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

// ---- parsing ----

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);
const JS_LANGS = new Set(['js', 'javascript', 'node']);

function parseMarker(text, where) {
  let m = /^expect-status:\s*(\d{3})$/.exec(text);
  if (m) return { expectStatus: m[1] };
  m = /^docs-test:\s*(.*)$/.exec(text);
  if (!m) return null; // another comment
  const body = m[1].trim();
  if ((m = /^skip\s*\((.+)\)$/.exec(body))) return { skip: m[1] };
  if ((m = /^server\s+(\d+)\s+until\s+"([^"]+)"$/.exec(body))) {
    return { background: 'server', port: Number(m[1]), until: m[2] };
  }
  if ((m = /^stream\s+until\s+"([^"]+)"$/.exec(body))) return { background: 'stream', until: m[1] };
  throw new Error(`${where}: unknown docs-test marker "${body}"`);
}

// Fenced code blocks of a Markdown file: {lang, text, line, marker}.
function codeBlocks(file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; ++i) {
    const open = /^(\s*)(`{3,})\s*([\w+-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && lines[j].trim() !== fence) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      ++j;
    }
    // Markers: the comment lines right above the fence (blank lines allowed between).
    let marker = {};
    for (let k = i - 1; k >= 0; --k) {
      const l = lines[k].trim();
      if (l === '') continue;
      const c = /^<!--\s*(.*?)\s*-->$/.exec(l);
      if (!c) break;
      const parsed = parseMarker(c[1], `${file}:${k + 1}`);
      if (parsed) marker = { ...marker, ...parsed };
    }
    blocks.push({ file, lang: lang.toLowerCase(), text: body.join('\n'), line: i + 1, marker });
    i = j;
  }
  return blocks;
}

function isRunnableShell(b) {
  if (!SHELL_LANGS.has(b.lang)) return false;
  return /\bcurl\b/.test(b.text) || Boolean(b.marker.background);
}

// `-d Name=value` (or --data/--data-raw/--data-ascii) whose value holds a raw `+` or space-less
// special character that form encoding changes: curl sends it as is, and `+` arrives as a space.
function unencodedPlus(text) {
  const re = /(?:^|\s)(?:-d|--data|--data-ascii|--data-raw)\s+(['"]?)([A-Za-z_][\w]*=[^\s'"]*\+[^\s'"]*)\1/g;
  const found = [];
  let m;
  while ((m = re.exec(text))) found.push(m[2]);
  return found;
}

// ---- substitution ----

function substitute(text, ctx, block) {
  let out = text
    .replace(/\b(127\.0\.0\.1|localhost):8080\b/g, (_, host) => `${host}:${ctx.httpPort}`)
    .replace(/https?:\/\/([a-z0-9-]+)(?:\.[a-z0-9-]+)*\.example(?:\.com|\.org|\.net)?\b/g,
      (_, label) => `${ctx.appBase}/${label}`)
    .replace(/(^|[\s;|&(])\.\/build\/release\/src\/switchboard\b/g, (_, pre) => `${pre}"$SWITCHBOARD_BIN"`);
  for (const [from, to] of ctx.ports) {
    out = out.replace(new RegExp(`\\b(127\\.0\\.0\\.1|localhost):${from}\\b`, 'g'), (_, h) => `${h}:${to}`);
  }
  // The server block itself names its port as it likes (a bare number in its source).
  if (block && block.marker.background === 'server') {
    out = out.replace(new RegExp(`\\b${block.marker.port}\\b`, 'g'), String(ctx.ports.get(block.marker.port)));
  }
  return out;
}

async function freeTcpPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// ---- the bash prelude: a curl that records and checks every answer ----

const PRELUDE = String.raw`
set -euo pipefail
DOCS_EXPECT=2xx
DOCS_BLOCK=0
DOCS_HEADERS=
# Every curl of the examples goes through here: -sS (no progress meter, errors shown), the
# response headers dumped to read the final status, checked against the block's expectation.
curl() {
  local hdr=$DOCS_HEADERS rc=0 status
  [[ -n $hdr ]] || hdr=$(mktemp "$DOCS_DIR/headers.XXXXXX")
  command curl -sS -D "$hdr" "$@" || rc=$?
  status=$(tr -d '\r' < "$hdr" | grep -o '^HTTP/[0-9.]* [0-9]*' | tail -1 | cut -d' ' -f2)
  printf 'block=%s status=%s rc=%s expect=%s\n' "$DOCS_BLOCK" "${'${status:-none}'}" "$rc" "$DOCS_EXPECT" >> "$DOCS_DIR/curl.log"
  if (( rc != 0 )); then
    echo "docs-test: block $DOCS_BLOCK: curl exited $rc: curl $*" >&2
    return "$rc"
  fi
  if [[ $DOCS_EXPECT == 2xx && $status != 2?? ]] || [[ $DOCS_EXPECT != 2xx && $status != "$DOCS_EXPECT" ]]; then
    echo "docs-test: block $DOCS_BLOCK: HTTP ${'${status:-none}'}, expected $DOCS_EXPECT: curl $*" >&2
    return 22
  fi
}
# Background blocks get their own process group (set -m), recorded for the test to kill.
docs_bg_start() {  # id kind
  set -m
  ( if [[ $2 == stream ]]; then export DOCS_HEADERS="$DOCS_DIR/bg$1.headers"; fi
    . "$DOCS_DIR/block$1.sh" ) > "$DOCS_DIR/bg$1.out" 2>&1 &
  local pid=$!
  set +m
  echo "$pid" >> "$DOCS_DIR/bg.pids"
  eval "DOCS_BG_$1=$pid"
}
docs_bg_alive() { kill -0 "$1" 2>/dev/null; }
# Polls (bounded) for a condition the background block brings about; never a fixed delay.
docs_wait() {  # id description command…
  local id=$1 what=$2 pid i
  shift 2
  eval "pid=\$DOCS_BG_$id"
  for ((i = 0; i < 400; ++i)); do
    if "$@"; then return 0; fi
    if ! docs_bg_alive "$pid"; then break; fi
    sleep 0.05
  done
  "$@" && return 0
  echo "docs-test: block $id: $what; its output:" >&2
  cat "$DOCS_DIR/bg$id.out" >&2
  exit 1
}
docs_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
docs_headers_in() { [[ -f $1 ]] && tr -d '\r' < "$1" | grep -q '^$'; }
docs_printed() { grep -qF -- "$2" "$DOCS_DIR/bg$1.out"; }
docs_bg_stop() {  # id
  local pid
  eval "pid=\$DOCS_BG_$1"
  kill -- "-$pid" 2>/dev/null || true
}
`;

function bashScript(blocks, ctx) {
  const parts = [PRELUDE];
  const finish = [];
  for (const b of blocks) {
    const text = substitute(b.text, ctx, b);
    parts.push(`\n# ---- block ${b.id}: ${b.file}:${b.line}`);
    parts.push(`DOCS_BLOCK=${b.id}; DOCS_EXPECT=${b.marker.expectStatus || '2xx'}`);
    if (b.marker.background) {
      fs.writeFileSync(path.join(ctx.dir, `block${b.id}.sh`), text + '\n');
      parts.push(`docs_bg_start ${b.id} ${b.marker.background}`);
      if (b.marker.background === 'server') {
        const port = ctx.ports.get(b.marker.port);
        parts.push(`docs_wait ${b.id} 'never accepted a connection on port ${port}' docs_port_open ${port}`);
      } else {
        const hdr = `"$DOCS_DIR/bg${b.id}.headers"`;
        parts.push(`docs_wait ${b.id} 'never got its response headers' docs_headers_in ${hdr}`);
        parts.push(`tr -d '\\r' < ${hdr} | head -1 | grep -q ' 200' || { echo "docs-test: block ${b.id}: stream answered $(head -1 ${hdr})" >&2; exit 1; }`);
      }
      finish.push(`docs_wait ${b.id} 'never printed the text its marker names' docs_printed ${b.id} ${shellQuote(b.marker.until)}`);
      finish.push(`docs_bg_stop ${b.id}`);
    } else {
      parts.push(text);
    }
  }
  parts.push('\n# ---- background blocks: what they had to print, then stop them');
  parts.push(...finish);
  parts.push('echo docs-test: done');
  return parts.join('\n') + '\n';
}

function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Runs `cmd args` in its own process group, bounded; resolves {code, signal, stdout, stderr}.
function run(cmd, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => {
      stderr += `\n[docs-test: killed after ${timeoutMs} ms]`;
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killRecordedGroups(dir) {
  const file = path.join(dir, 'bg.pids');
  if (!fs.existsSync(file)) return;
  for (const pid of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    try { process.kill(-Number(pid), 'SIGKILL'); } catch { /* already stopped */ }
  }
}

// ---- the environment the examples run in ----

async function setUp(t) {
  const daemon = await startDaemon(t, { args: ['--demo'] }); // the demo number, as `make run`
  const app = await startApp(t, daemon.authToken);
  // Any path answers TwiML that runs (a greeting and a hang-up): voice, status, fallback.
  const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello from the docs test</Say><Hangup/></Response>';
  app.routes = new Proxy({}, { get: () => async () => twiml });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-docs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(path.resolve(process.env.SWITCHBOARD_BIN), path.join(bin, 'switchboard'));
  const api = `${daemon.baseUrl}/2010-04-01/Accounts/${daemon.accountSid}`;
  // What `make run` leaves in var/main-account.env, so that `. var/main-account.env` works.
  fs.mkdirSync(path.join(dir, 'var'));
  fs.writeFileSync(
    path.join(dir, 'var', 'main-account.env'),
    [
      `export SID=${daemon.accountSid}`,
      `export TOKEN=${daemon.authToken}`,
      `export API=${api}`,
      `export TWILIO_ACCOUNT_SID=${daemon.accountSid}`,
      `export TWILIO_AUTH_TOKEN=${daemon.authToken}`,
      `export SWITCHBOARD_ACCOUNT_SID=${daemon.accountSid}`,
      `export SWITCHBOARD_AUTH_TOKEN=${daemon.authToken}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    SID: daemon.accountSid,
    TOKEN: daemon.authToken,
    API: api,
    SWITCHBOARD_BIN: path.resolve(process.env.SWITCHBOARD_BIN),
    DOCS_DIR: dir,
  };
  const ctx = { daemon, app, dir, env, httpPort: daemon.port, appBase: app.base, ports: new Map() };
  t.after(() => killRecordedGroups(dir));
  return ctx;
}

// ---- the tests ----

const FILES = docFiles();
const ALL = FILES.flatMap(codeBlocks);

test('every marker has a block to apply to and every skip says why', () => {
  for (const b of ALL) {
    if (b.marker.skip !== undefined) assert.ok(b.marker.skip.trim().length > 3, `${b.file}:${b.line}: skip without a reason`);
    if (b.marker.background || b.marker.expectStatus) {
      assert.ok(SHELL_LANGS.has(b.lang), `${b.file}:${b.line}: a docs-test marker on a ${b.lang || 'plain'} block`);
    }
  }
  assert.ok(ALL.filter(isRunnableShell).length >= 10, 'the docs have shell examples to run');
});

test('no example sends a form value with a raw + (curl -d sends it as is: it arrives as a space)', () => {
  const bad = [];
  for (const b of ALL.filter((x) => SHELL_LANGS.has(x.lang) && !x.marker.expectStatus)) {
    for (const v of unencodedPlus(b.text)) bad.push(`${b.file}:${b.line}: -d ${v} (use --data-urlencode)`);
  }
  assert.deepEqual(bad, []);
});

for (const file of FILES) {
  const blocks = codeBlocks(file);
  const shell = blocks.filter((b) => isRunnableShell(b) && b.marker.skip === undefined);
  const js = blocks.filter((b) => JS_LANGS.has(b.lang) && b.marker.skip === undefined);
  if (shell.length === 0 && js.length === 0) continue;

  test(`${file}: its examples run as written`, async (t) => {
    const ctx = await setUp(t);
    shell.forEach((b, i) => { b.id = i + 1; });
    for (const b of shell) {
      if (b.marker.background === 'server' && !ctx.ports.has(b.marker.port)) {
        ctx.ports.set(b.marker.port, await freeTcpPort());
      }
    }
    if (shell.length > 0) {
      const script = bashScript(shell, ctx);
      const scriptPath = path.join(ctx.dir, 'examples.sh');
      fs.writeFileSync(scriptPath, script);
      const r = await run('bash', [scriptPath], { cwd: ctx.dir, env: ctx.env, timeoutMs: SCRIPT_TIMEOUT_MS });
      killRecordedGroups(ctx.dir);
      const log = fs.existsSync(path.join(ctx.dir, 'curl.log'))
        ? fs.readFileSync(path.join(ctx.dir, 'curl.log'), 'utf8')
        : '';
      const where = (id) => {
        const b = shell.find((x) => x.id === Number(id));
        return b ? `${b.file}:${b.line}` : `block ${id}`;
      };
      assert.equal(
        r.code,
        0,
        `the examples of ${file} failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})\n` +
          `stderr:\n${r.stderr.slice(-6000)}\nstdout (end):\n${r.stdout.slice(-3000)}\n` +
          `curls:\n${log.replace(/block=(\d+)/g, (_, id) => where(id))}\n` +
          `daemon stderr (end):\n${ctx.daemon.stderr.slice(-3000)}`,
      );
      assert.match(r.stdout, /docs-test: done\n$/, 'the script ran to its end');
      // Every foreground block with curl in it ran its curls, and every answer was the one expected.
      const entries = log.split('\n').filter(Boolean).map((l) => Object.fromEntries(l.split(' ').map((kv) => kv.split('='))));
      for (const b of shell.filter((x) => !x.marker.background && /\bcurl\b/.test(x.text))) {
        const mine = entries.filter((e) => Number(e.block) === b.id);
        assert.ok(mine.length > 0, `${b.file}:${b.line}: no curl of this block ran`);
        for (const e of mine) {
          assert.equal(e.rc, '0', `${b.file}:${b.line}: a curl exited ${e.rc}`);
          if (b.marker.expectStatus) assert.equal(e.status, b.marker.expectStatus, `${b.file}:${b.line}`);
          else assert.match(e.status, /^2\d\d$/, `${b.file}:${b.line}: HTTP ${e.status}`);
        }
      }
    }
    for (const b of js) {
      const code = substitute(b.text, ctx);
      const scriptPath = path.join(ctx.dir, `example-${b.line}.js`);
      fs.writeFileSync(scriptPath, code);
      const r = await run(process.execPath, [scriptPath], { cwd: ctx.dir, env: ctx.env, timeoutMs: NODE_TIMEOUT_MS });
      assert.equal(r.code, 0, `${b.file}:${b.line}: node exited ${r.code}\n${r.stderr}\n${r.stdout}`);
      assert.ok(!/Error/.test(r.stderr), `${b.file}:${b.line}: ${r.stderr}`);
    }
  });
}
