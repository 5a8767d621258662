'use strict';
// Run by ctest after every integration test (the test_logs fixture's cleanup): no line the
// daemons wrote during the run may hold a secret the tests saw (auth tokens, API key secrets,
// SIP and trunk passwords). The integration harness (tests/integration/lib/daemon.js) writes
// each daemon's output to <dir>/*.log and each secret it met to <dir>/*.secrets.
// Exit 77 (skipped) when no integration test ran.

const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

async function main() {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir)) {
    console.log(`no log directory ${dir}: nothing to check`);
    process.exit(77);
  }
  const files = fs.readdirSync(dir);
  const secrets = new Set();
  for (const f of files.filter((n) => n.endsWith('.secrets'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line.length >= 8) secrets.add(line);
    }
  }
  const logs = files.filter((n) => n.endsWith('.log'));
  if (logs.length === 0 || secrets.size === 0) {
    console.log(`${logs.length} logs and ${secrets.size} secrets in ${dir}: nothing to check`);
    process.exit(77);
  }
  const list = [...secrets];
  let lines = 0;
  const hits = [];
  for (const f of logs) {
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(dir, f)), crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) {
      ++n;
      for (const s of list) {
        if (line.includes(s)) hits.push(`${f}:${n}: holds a secret (${s.slice(0, 4)}…): ${line.slice(0, 300)}`);
      }
    }
    lines += n;
  }
  console.log(`${logs.length} daemon logs, ${lines} lines, checked for ${list.length} secrets`);
  if (hits.length) {
    console.error(hits.slice(0, 50).join('\n'));
    console.error(`${hits.length} log lines hold secrets`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
