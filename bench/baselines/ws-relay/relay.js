// Baseline relay for the hub fan-out benchmark (bench/run-hub.sh, docs/performance.md).
// Does what the ConnText hub does for a message, minus storage and authentication:
//   client -> {"type":"send","room":<id>,"id":<clientMessageId>,"text":...}
//   relay  -> every socket of the room (sender included): {"type":"event","event":<EventAppended-shaped object>}
//   relay  -> sender: {"type":"ack","id":...,"sequence":n}
// A socket joins one room, given at connect time: ws://host:port/?room=<id>&user=<id>.
// Like SignalR's group send, the event is serialized once and the same buffer goes to every member.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { WebSocketServer, WebSocket } = require('ws');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const rooms = new Map(); // room id -> { sequence, members: Set<WebSocket> }

const server = http.createServer((_, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server, maxPayload: 100 * 1024 });

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://relay');
  const roomId = url.searchParams.get('room');
  const userId = url.searchParams.get('user');
  if (!roomId || !userId) { ws.close(1008, 'room and user required'); return; }
  let room = rooms.get(roomId);
  if (!room) { room = { sequence: 0, members: new Set() }; rooms.set(roomId, room); }
  room.members.add(ws);
  ws.on('close', () => room.members.delete(ws));
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data); } catch { ws.close(1007, 'bad json'); return; }
    if (m.type !== 'send' || m.room !== roomId || typeof m.text !== 'string') { ws.close(1008, 'bad message'); return; }
    const sequence = ++room.sequence;
    const now = new Date().toISOString();
    const messageId = crypto.randomUUID();
    const event = {
      conversationId: roomId, sequence, kind: 'message.created', actorId: userId, createdAt: now, messageId,
      message: {
        id: messageId, conversationId: roomId, sequence, kind: 'text', senderId: userId, clientMessageId: m.id,
        text: m.text, replyToMessageId: null, systemEvent: null, subjectUserId: null, createdAt: now,
        editedAt: null, deletedAt: null, reactions: [], mentions: [],
      },
      emoji: null, subjectUserId: null,
    };
    const frame = Buffer.from(JSON.stringify({ type: 'event', event }));
    for (const member of room.members) {
      if (member.readyState === WebSocket.OPEN) member.send(frame, { binary: false });
    }
    ws.send(JSON.stringify({ type: 'ack', id: m.id, sequence }));
  });
});

server.listen(port, host, () => console.log(`LISTENING ${server.address().port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
