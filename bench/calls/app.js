'use strict';
// The benchmark's application: answers every voice webhook with the TwiML in argv[3]
// (default: Say Hello, Hangup) and status callbacks with 204. Prints its port on stdout.
const http = require('node:http');
const twiml = process.argv[3] || '<Response><Say>Hello</Say><Hangup/></Response>';
let requests = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    ++requests;
    if (req.url.startsWith('/status')) {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(twiml);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(server.address().port);
});
process.on('SIGTERM', () => {
  console.error(`app: ${requests} requests`);
  process.exit(0);
});
