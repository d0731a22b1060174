// ConnText direct file transfer and peer-to-peer messages: files, and the messages of peer-to-peer conversations, go
// from one device to another over WebRTC data channels (directly, or through TURN), never through the ConnText
// server, which only relays the signaling (the hub's PeerSignal).
// Driven from C# (Components/PeerTransfers) through JS interop; the receiving side writes what arrives to its own
// desktop host (p2p/{account}/incoming/{id}), which checks the SHA-256 at the end.
//
// One "link" (RTCPeerConnection + a negotiated control channel) per remote device; one data channel per transfer
// carrying the bytes in order, with backpressure (bufferedAmountLowThreshold). A transfer whose connection drops is
// resumed from what the receiver has stored once a link is back (the sender retries on its own).

import { negotiate } from './negotiation.js';
import { Sha256 } from './sha256.js';

const CHUNK = 64 * 1024;            // bytes per data-channel message
const READ = 1024 * 1024;           // bytes read from the file at a time
const HIGH_WATER = 4 * 1024 * 1024; // stop sending while this much waits in the channel's buffer…
const LOW_WATER = 1024 * 1024;      // …until it drains to this
const FLUSH = 1024 * 1024;          // the receiver writes to its host in pieces of about this size
const FIND_TIMEOUT = 8000;          // how long a sender waits for one of the receiver's devices to answer
const OPEN_TIMEOUT = 20000;         // …and for the connection to open
const RETRY_EVERY = 3000;           // an interrupted transfer tries to reconnect this often
const RETRY_FOR = 10 * 60 * 1000;   // …for this long

const accounts = new Map(); // account key -> { key, dotnet, selfDeviceId, config, links, transfers, finding }

/** Starts (or updates) an account's side: its device id, the ICE servers, and where signals go out. */
export function init(key, { dotnet, selfDeviceId, iceServers, relayOnly }) {
    let account = accounts.get(key);
    if (!account) {
        account = { key, links: new Map(), transfers: new Map(), finding: new Map(), delivering: new Set() };
        accounts.set(key, account);
    }
    Object.assign(account, { dotnet, selfDeviceId, relayOnly, config: configuration(iceServers, relayOnly) });
}

/** Fresh ICE servers (TURN credentials): used for links made from now on. */
export function updateIceServers(key, iceServers) {
    const account = accounts.get(key);
    if (account) account.config = configuration(iceServers, account.relayOnly);
}

/** A PeerSignal from another device (a hello, an answer to ours, or a link's negotiation). */
export function signal(key, fromUserId, fromDeviceId, payload) {
    const account = accounts.get(key);
    if (!account || fromDeviceId === account.selfDeviceId) return;
    const message = JSON.parse(payload);
    if (message.hello) {
        // Someone looks for this user's online devices: this one is. And whatever waits for them can go now.
        send(account, fromUserId, fromDeviceId, { here: true });
        account.dotnet.invokeMethodAsync('PeerOnline', key, fromUserId).catch(() => { });
        return;
    }
    if (message.here) {
        account.finding.get(fromUserId)?.(fromDeviceId);
        return;
    }
    if (!message.link) return;
    let link = account.links.get(fromDeviceId);
    if (link && link.id !== message.link) {
        if (link.state === 'open' || link.state === 'closed' || message.link < link.id) {
            // The other side started over (its connection went away), or both started at once and theirs wins.
            closeLink(account, link, 'replaced');
            link = null;
        } else {
            return; // both started at once and ours wins: the other side switches to it
        }
    }
    link ??= makeLink(account, fromUserId, fromDeviceId, message.link);
    link.negotiation.receive(message);
}

/** Sends the file chosen in input (type=file) to a user, directly to one of their online devices. */
export async function sendFromInput(key, input, toUserId, conversationId) {
    const account = accounts.get(key);
    const file = input?.files?.[0];
    if (!account || !file) return null;
    input.value = ''; // the same file can be chosen again
    const transfer = {
        id: crypto.randomUUID(), direction: 'out', name: file.name, size: file.size, file, toUserId, conversationId,
        state: 'hashing', done: 0, sha256: null, error: null, path: null, deviceId: null, since: Date.now(),
    };
    account.transfers.set(transfer.id, transfer);
    report(account, transfer);
    const hash = new Sha256();
    for (let offset = 0; offset < file.size; offset += READ) {
        hash.update(await file.slice(offset, offset + READ).arrayBuffer());
        transfer.done = Math.min(offset + READ, file.size);
        report(account, transfer, true);
    }
    transfer.sha256 = hash.hex();
    transfer.done = 0;
    await offer(account, transfer);
    return transfer.id;
}

/**
 * Delivers messages of a peer-to-peer conversation ({ id, conversationId, text, sentAt }) to one of the user's online
 * devices; each is acknowledged ('PeerMessageDelivered') once that device stored it. Returns how many went out (0
 * when no device of theirs answered: C# tries again later).
 */
export async function deliver(key, toUserId, messages) {
    const account = accounts.get(key);
    const fresh = (messages ?? []).filter(m => !account?.delivering.has(m.id));
    if (!account || fresh.length === 0) return 0;
    fresh.forEach(m => account.delivering.add(m.id));
    try {
        const link = await linkTo(account, toUserId, null);
        if (!link) return 0;
        for (const m of fresh) control(link, { t: 'chat', id: m.id, conversationId: m.conversationId, text: m.text, sentAt: m.sentAt });
        return fresh.length;
    } finally {
        // Not acknowledged within a while (the other window went away): the next attempt sends it again.
        setTimeout(() => fresh.forEach(m => account.delivering.delete(m.id)), 15000);
    }
}

/** The receiver says yes to an offered file. */
export async function accept(key, id) {
    const account = accounts.get(key);
    const transfer = account?.transfers.get(id);
    if (!transfer || transfer.direction !== 'in' || transfer.state !== 'offered') return;
    transfer.state = 'receiving';
    transfer.accepted = true;
    await resumeIncoming(account, transfer);
}

/** The receiver says no; or either side cancels a transfer that has not finished. */
export async function cancel(key, id) {
    const account = accounts.get(key);
    const transfer = account?.transfers.get(id);
    if (!transfer || transfer.state === 'done') return;
    const link = account.links.get(transfer.deviceId);
    control(link, { t: transfer.state === 'offered' ? 'decline' : 'cancel', id });
    transfer.channel?.close();
    transfer.state = transfer.state === 'offered' ? 'declined' : 'cancelled';
    if (transfer.direction === 'in') await host(account, `incoming/${id}`, { method: 'DELETE' }).catch(() => { });
    report(account, transfer);
}

/** Sends a file through the server instead (an upload attached to a message), when no direct connection is made. */
export async function sendThroughServer(key, id) {
    const account = accounts.get(key);
    const transfer = account?.transfers.get(id);
    if (!transfer || transfer.direction !== 'out' || transfer.state !== 'unreachable') return;
    transfer.state = 'uploading';
    report(account, transfer);
    const response = await host(account, `fallback/${transfer.conversationId}?name=${encodeURIComponent(transfer.name)}`,
        { method: 'POST', body: transfer.file, headers: { 'content-type': 'application/octet-stream' } });
    transfer.state = response.ok ? 'uploaded' : 'failed';
    transfer.error = response.ok ? null : await problem(response);
    report(account, transfer);
}

/** For tests and the devtools console: every transfer's figures; drop() closes every link as a network failure would. */
globalThis.conntextPeers = {
    transfers: () => [...accounts.values()].flatMap(a => [...a.transfers.values()].map(view)),
    drop,
    /** Drops every link once this many bytes of a receiving transfer have arrived (an interruption at a known point). */
    dropAt: bytes => { dropAtBytes = bytes; },
};

let dropAtBytes = null;

function drop() {
    for (const account of accounts.values()) {
        for (const link of account.links.values()) closeLink(account, link, 'dropped');
    }
}

// ------------------------------------------------------------------------------------------------ sending

/** Finds one of the receiver's online devices, connects, and offers the file (or resumes it). */
async function offer(account, transfer) {
    transfer.state = 'connecting';
    report(account, transfer);
    const link = await linkTo(account, transfer.toUserId, transfer.deviceId);
    if (!link) {
        if (transfer.everConnected) return retryLater(account, transfer);
        transfer.state = 'unreachable'; // the UI offers to send it through the server instead
        transfer.error = 'No direct connection could be made (the other side is offline or unreachable).';
        report(account, transfer);
        return;
    }
    transfer.deviceId = link.deviceId;
    transfer.everConnected = true;
    transfer.state = transfer.done > 0 ? 'resuming' : 'waiting';
    report(account, transfer);
    control(link, { t: 'offer', id: transfer.id, name: transfer.name, size: transfer.size, sha256: transfer.sha256 });
}

async function sendBytes(account, link, transfer, from) {
    transfer.state = 'sending';
    transfer.done = from;
    report(account, transfer);
    const channel = link.pc.createDataChannel(`file:${transfer.id}`, { ordered: true });
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    transfer.channel = channel;
    await new Promise((resolve, reject) => {
        channel.onopen = resolve;
        channel.onclose = () => reject(new Error('closed before it opened'));
    }).catch(() => { });
    try {
        for (let offset = from; offset < transfer.size && channel.readyState === 'open';) {
            const piece = new Uint8Array(await transfer.file.slice(offset, offset + READ).arrayBuffer());
            for (let i = 0; i < piece.length; i += CHUNK) {
                if (channel.bufferedAmount > HIGH_WATER) {
                    await new Promise(resolve => {
                        channel.onbufferedamountlow = resolve;
                        channel.onclose = resolve;
                    });
                }
                if (channel.readyState !== 'open') break;
                channel.send(piece.subarray(i, i + CHUNK));
            }
            offset += piece.length;
            // What has left the buffer is what the network took (the receiver confirms at the end with the hash).
            transfer.done = Math.max(from, offset - channel.bufferedAmount);
            report(account, transfer, true);
        }
    } catch (e) {
        console.warn('peers: sending stopped', e);
    }
    if (channel.readyState === 'open') {
        transfer.done = transfer.size;
        transfer.state = 'verifying'; // the receiver's result comes on the control channel
        report(account, transfer);
    }
}

function retryLater(account, transfer) {
    if (['done', 'failed', 'cancelled', 'declined'].includes(transfer.state)) return;
    if (transfer.state !== 'interrupted') transfer.interruptions = (transfer.interruptions ?? 0) + 1;
    transfer.state = 'interrupted';
    report(account, transfer);
    if (transfer.retrying || transfer.direction !== 'out') return;
    transfer.retrying = true;
    const started = Date.now();
    const attempt = async () => {
        if (transfer.state !== 'interrupted') {
            transfer.retrying = false;
            return;
        }
        if (Date.now() - started > RETRY_FOR) {
            transfer.retrying = false;
            transfer.state = 'failed';
            transfer.error = 'The connection did not come back.';
            report(account, transfer);
            return;
        }
        const link = await linkTo(account, transfer.toUserId, transfer.deviceId, RETRY_EVERY);
        if (link && transfer.state === 'interrupted') {
            transfer.retrying = false;
            transfer.deviceId = link.deviceId;
            transfer.state = 'resuming';
            report(account, transfer);
            control(link, { t: 'offer', id: transfer.id, name: transfer.name, size: transfer.size, sha256: transfer.sha256 });
        } else {
            setTimeout(attempt, RETRY_EVERY);
        }
    };
    setTimeout(attempt, RETRY_EVERY);
}

// ------------------------------------------------------------------------------------------------ receiving

async function onControl(account, link, message) {
    const transfer = account.transfers.get(message.id);
    switch (message.t) {
        case 'offer':
            if (transfer?.direction === 'in') {
                // Known: the sender came back after a drop. Go on from what is stored (or say how it ended).
                transfer.deviceId = link.deviceId;
                if (transfer.state === 'done' || transfer.state === 'failed') {
                    control(link, { t: 'result', id: transfer.id, ok: transfer.state === 'done', error: transfer.error });
                    return;
                }
                if (transfer.accepted) {
                    // Counted here, on the way back: however the bytes stopped (the channel, the link, or both
                    // reporting it, in whatever order), each return of the sender is one interruption survived.
                    transfer.interruptions = (transfer.interruptions ?? 0) + 1;
                    await resumeIncoming(account, transfer);
                }
                return;
            }
            if (transfer) return;
            account.transfers.set(message.id, {
                id: message.id, direction: 'in', name: message.name, size: message.size, sha256: message.sha256,
                fromUserId: link.userId, deviceId: link.deviceId, state: 'offered', done: 0, error: null, path: null,
                stream: null, writes: Promise.resolve(), since: Date.now(),
            });
            report(account, account.transfers.get(message.id));
            return;
        case 'accept':
            if (transfer?.direction === 'out' && ['waiting', 'resuming'].includes(transfer.state)) {
                await sendBytes(account, link, transfer, message.from);
            }
            return;
        case 'decline':
        case 'cancel':
            if (transfer && transfer.state !== 'done') {
                transfer.state = message.t === 'decline' ? 'declined' : 'cancelled';
                transfer.channel?.close();
                report(account, transfer);
            }
            return;
        case 'chat': {
            // A message of a peer-to-peer conversation: acknowledged once this device stored it.
            const stored = await account.dotnet.invokeMethodAsync('PeerMessage', account.key, link.userId,
                { id: message.id, conversationId: message.conversationId, text: message.text, sentAt: message.sentAt });
            if (stored) control(link, { t: 'chat-ack', id: message.id });
            return;
        }
        case 'chat-ack':
            account.delivering.delete(message.id);
            await account.dotnet.invokeMethodAsync('PeerMessageDelivered', account.key, message.id);
            return;
        case 'result':
            if (transfer?.direction === 'out') {
                transfer.state = message.ok ? 'done' : 'failed';
                transfer.error = message.ok ? null : message.error;
                transfer.done = message.ok ? transfer.size : transfer.done;
                report(account, transfer);
            }
            return;
        default:
            return;
    }
}

/** Asks the sender to go on from what this device's host has stored of the file. */
async function resumeIncoming(account, transfer) {
    // What the previous channel delivered is written first, and that channel is done with.
    if (transfer.stream) flush(account, transfer, transfer.stream);
    transfer.stream = null;
    await transfer.writes;
    const stored = await host(account, `incoming/${transfer.id}`).then(r => r.json());
    transfer.done = stored.received;
    transfer.state = 'receiving';
    report(account, transfer);
    control(account.links.get(transfer.deviceId), { t: 'accept', id: transfer.id, from: stored.received });
}

function onFileChannel(account, channel) {
    const transfer = account.transfers.get(channel.label.slice('file:'.length));
    if (!transfer || transfer.direction !== 'in' || !transfer.accepted) {
        channel.close();
        return;
    }
    channel.binaryType = 'arraybuffer';
    transfer.channel = channel;
    // The sender starts where this side said. Every piece is written at its own offset, so bytes of an earlier
    // channel that arrive late (or twice) can only rewrite the same bytes, never shift the file.
    const stream = { next: transfer.done, pendingAt: transfer.done, pending: [], pendingBytes: 0 };
    transfer.stream = stream;
    channel.onmessage = ({ data }) => {
        if (transfer.stream !== stream) return; // a channel the transfer has moved on from
        stream.pending.push(new Uint8Array(data));
        stream.pendingBytes += data.byteLength;
        stream.next += data.byteLength;
        if (stream.pendingBytes >= FLUSH || stream.next >= transfer.size) flush(account, transfer, stream);
        if (stream.next >= transfer.size) finish(account, transfer);
        else if (dropAtBytes !== null && stream.next >= dropAtBytes) {
            dropAtBytes = null;
            drop();
        }
    };
    channel.onclose = () => interruptIncoming(account, transfer, stream);
}

/** The bytes stopped coming (the channel or the whole link went): keep what arrived, the sender resumes after it. */
function interruptIncoming(account, transfer, stream) {
    if (transfer.state !== 'receiving' || !stream || transfer.stream !== stream || stream.interrupted) return;
    stream.interrupted = true; // once, though both the channel and its link report it
    flush(account, transfer, stream);
    transfer.writes.then(() => {
        if (transfer.state === 'receiving' && transfer.stream === stream) {
            transfer.state = 'interrupted';
            report(account, transfer);
        }
    });
}

/** Writes what a stream has buffered to the host at its offset, in order (one write at a time). */
function flush(account, transfer, stream) {
    if (stream.pendingBytes === 0) return;
    const body = new Blob(stream.pending);
    const at = stream.pendingAt;
    stream.pendingAt += stream.pendingBytes;
    stream.pending = [];
    stream.pendingBytes = 0;
    transfer.writes = transfer.writes.then(async () => {
        const response = await host(account, `incoming/${transfer.id}?offset=${at}`,
            { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
        if (!response.ok) throw new Error(await problem(response));
        const stored = await response.json();
        transfer.done = stored.received;
        report(account, transfer, true);
    }).catch(e => {
        transfer.state = 'failed';
        transfer.error = `Could not store the file: ${e.message}`;
        transfer.channel?.close();
        report(account, transfer);
    });
}

async function finish(account, transfer) {
    transfer.state = 'verifying';
    report(account, transfer);
    await transfer.writes;
    if (transfer.state !== 'verifying') return;
    const response = await host(account, `incoming/${transfer.id}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: transfer.name, size: transfer.size, sha256: transfer.sha256 }),
    });
    const ok = response.ok;
    if (ok) {
        transfer.path = (await response.json()).path;
        transfer.state = 'done';
    } else {
        transfer.state = 'failed';
        transfer.error = await problem(response);
    }
    report(account, transfer);
    control(account.links.get(transfer.deviceId), { t: 'result', id: transfer.id, ok, error: transfer.error });
    transfer.channel?.close();
}

// ------------------------------------------------------------------------------------------------ links

/** An open link to the given device, or to whichever of the user's devices answers first; null when none. */
async function linkTo(account, userId, deviceId, findTimeout = FIND_TIMEOUT) {
    let target = deviceId;
    const existing = [...account.links.values()].find(l => l.userId === userId && l.state === 'open' && (!target || l.deviceId === target));
    if (existing) return existing;
    if (!target) {
        target = await new Promise(resolve => {
            const timer = setTimeout(() => resolve(null), findTimeout);
            account.finding.set(userId, found => {
                clearTimeout(timer);
                resolve(found);
            });
            send(account, userId, null, { hello: true });
        });
        account.finding.delete(userId);
        if (!target) return null;
    }
    let link = account.links.get(target);
    if (!link || link.state === 'closed') link = makeLink(account, userId, target, crypto.randomUUID());
    return await Promise.race([link.opened, new Promise(resolve => setTimeout(() => resolve(null), OPEN_TIMEOUT))]);
}

function makeLink(account, userId, deviceId, id) {
    const pc = new RTCPeerConnection(account.config);
    const link = { id, userId, deviceId, pc, state: 'connecting' };
    link.opened = new Promise(resolve => { link.resolveOpened = resolve; });
    account.links.set(deviceId, link);
    const polite = account.selfDeviceId < deviceId;
    const trace = what => console.debug(`peers ${deviceId.slice(0, 10)} ${polite ? 'polite' : 'impolite'} ${id.slice(0, 8)}: ${what}`);
    link.negotiation = negotiate(pc, { polite, trace, send: message => send(account, userId, deviceId, { ...message, link: id }) });
    // Negotiated on both sides (id 0): no in-band announcement needed, and creating it starts the negotiation.
    link.control = pc.createDataChannel('control', { negotiated: true, id: 0, ordered: true });
    link.control.onopen = () => {
        link.state = 'open';
        trace('open');
        link.resolveOpened(link);
    };
    link.control.onmessage = ({ data }) => onControl(account, link, JSON.parse(data)).catch(e => console.warn('peers: control failed', e));
    link.control.onclose = () => closeLink(account, link, 'control channel closed');
    pc.ondatachannel = ({ channel }) => onFileChannel(account, channel);
    pc.onconnectionstatechange = () => {
        trace(`connection ${pc.connectionState}`);
        if (pc.connectionState === 'failed' || pc.connectionState === 'closed') closeLink(account, link, pc.connectionState);
    };
    trace('link created');
    return link;
}

function closeLink(account, link, why) {
    if (link.state === 'closed') return;
    link.state = 'closed';
    console.debug(`peers ${link.deviceId.slice(0, 10)}: link closed (${why})`);
    link.resolveOpened(null);
    try {
        link.pc.close();
    } catch {
        // already closed
    }
    if (account.links.get(link.deviceId) === link) account.links.delete(link.deviceId);
    for (const transfer of account.transfers.values()) {
        if (transfer.deviceId !== link.deviceId) continue;
        if (transfer.direction === 'out' && ['sending', 'waiting', 'resuming', 'verifying'].includes(transfer.state)) retryLater(account, transfer);
        if (transfer.direction === 'in') interruptIncoming(account, transfer, transfer.stream);
    }
}

// ------------------------------------------------------------------------------------------------ plumbing

function control(link, message) {
    if (link?.state === 'open' && link.control.readyState === 'open') link.control.send(JSON.stringify(message));
}

function send(account, toUserId, toDeviceId, message) {
    return account.dotnet.invokeMethodAsync('Signal', account.key, toUserId, toDeviceId, JSON.stringify(message))
        .catch(e => console.warn('peers: signal not sent', e));
}

function host(account, path, init) {
    return fetch(`p2p/${account.key}/${path}`, init);
}

async function problem(response) {
    try {
        const body = await response.json();
        return body.detail ?? body.title ?? `HTTP ${response.status}`;
    } catch {
        return `HTTP ${response.status}`;
    }
}

function configuration(iceServers, relayOnly) {
    const servers = (iceServers?.iceServers ?? []).map(s => ({ urls: s.urls, username: s.username ?? undefined, credential: s.credential ?? undefined }));
    return { iceServers: servers, iceTransportPolicy: relayOnly ? 'relay' : 'all' };
}

/** What C# shows: no File object, no channel. */
function view(t) {
    return {
        id: t.id, direction: t.direction, name: t.name, size: t.size, state: t.state, done: t.done, sha256: t.sha256,
        error: t.error, path: t.path, deviceId: t.deviceId, userId: t.direction === 'out' ? t.toUserId : t.fromUserId,
        interruptions: t.interruptions ?? 0,
    };
}

/** Tells C# a transfer changed; progress (throttled) at most four times a second per transfer. */
function report(account, transfer, progressOnly = false) {
    const now = Date.now();
    if (progressOnly && now - (transfer.reportedAt ?? 0) < 250) return;
    transfer.reportedAt = now;
    account.dotnet.invokeMethodAsync('TransferChanged', account.key, view(transfer)).catch(() => { });
}
