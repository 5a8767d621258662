'use strict';
// The Media Streams benchmark's WebSocket server: accepts every stream, counts the messages it
// receives, and with "echo" sends every media message straight back (the daemon plays it to
// the caller: a two-way stream's full load). Prints its port, then once a second
// "<ms> <connections> <messages>" on stdout.
const { WebSocketServer } = require('ws');
const echo = process.argv[3] === 'echo';
let connections = 0;
let messages = 0;
const server = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0) });
server.on('listening', () => console.log(server.address().port));
server.on('connection', (ws) => {
  ++connections;
  ws.on('message', (data, binary) => {
    ++messages;
    // A media message as the daemon sent it is one the daemon accepts back (extra fields are
    // ignored), so it is echoed untouched: no parsing here.
    if (echo && !binary && data.length > 200) ws.send(data, { binary: false });
  });
  ws.on('close', () => { --connections; });
});
setInterval(() => process.stdout.write(`${Date.now()} ${connections} ${messages}\n`), 1000);
process.on('SIGTERM', () => process.exit(0));
