'use strict';
// Test certificates made with the openssl command: a CA and the certificates it signs (for
// 127.0.0.1 and localhost), written to a folder.

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function openssl(args, opts = {}) {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

const EC = ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

// A CA named `caName` in `dir`; issue(name, keyArgs) signs `name`.pem/.key (subject
// name.switchboard.test, SAN 127.0.0.1 and localhost). `file(name)` is a path in `dir`.
function makePki(dir, caName = 'ca') {
  const p = (name) => path.join(dir, name);
  openssl(['req', '-x509', '-newkey', ...EC, '-nodes', '-keyout', p(`${caName}.key`),
    '-out', p(`${caName}.pem`), '-days', '2', '-subj', `/CN=Switchboard Test CA ${caName}`]);
  fs.writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const issue = (name, keyArgs = EC) => {
    openssl(['req', '-newkey', ...keyArgs, '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`),
      '-subj', `/CN=${name}.switchboard.test`]);
    openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`),
      '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '2', '-extfile', p('ext.cnf')]);
    // Certificate and key in one file, as baresip's sip_certificate takes them.
    fs.writeFileSync(p(`${name}-combined.pem`),
      Buffer.concat([fs.readFileSync(p(`${name}.pem`)), fs.readFileSync(p(`${name}.key`))]));
  };
  return { dir, ca: fs.readFileSync(p(`${caName}.pem`)), caFile: p(`${caName}.pem`), file: p, issue };
}

// `openssl s_client` to 127.0.0.1:`port` trusting `caFile`; returns {status, out} (stdout and
// stderr together).
function sClient(port, args, caFile) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-CAfile', caFile, ...args], { input: '', encoding: 'utf8', timeout: 15000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

module.exports = { makePki, openssl, sClient, EC };
