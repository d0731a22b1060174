// ConnText calls: the WebRTC side of a call, driven from C# (Components/Calls/CallCenter) through JS interop.
// One RTCPeerConnection per remote device; "perfect negotiation" (polite/impolite by device id) so glare,
// renegotiation (screen share, camera back on in an audio call) and ICE restarts need no special cases.
// Signaling goes out through C# (dotnet.invokeMethodAsync('Signal', ...)) and comes back in through signal().
// Media never touches the server: peers connect directly, or through TURN when they cannot.

import { negotiate } from './negotiation.js';

let call = null;      // the call of this window: { callId, selfDeviceId, dotnet, config, peers, local, ... }
let ringer = null;    // the ringtone's WebAudio graph while ringing

const SCREEN_KIND = 'screen';

/** Starts this window's side of a call: local media and the RTCPeerConnection configuration. */
export async function start(options) {
    if (call?.callId === options.callId) {
        // Already started (a repeated answer): starting again would drop the connections made since.
        return { mediaError: call.mediaError, hasAudio: !!call.audio, hasVideo: !!call.camera };
    }
    await hangUp();
    call = {
        callId: options.callId,
        selfDeviceId: options.selfDeviceId,
        dotnet: options.dotnet,
        config: configuration(options.iceServers, options.relayOnly),
        relayOnly: options.relayOnly,
        peers: new Map(),
        local: new MediaStream(),
        audio: null,
        camera: null,
        screen: null,
        muted: false,
        cameraOn: options.media === 'video',
        stage: options.stage,
        refreshTimer: null,
        speakingTimer: null,
        mediaError: null,
    };
    scheduleIceRefresh(options.iceServers?.expiresAt);
    try {
        const stream = await navigator.mediaDevices.getUserMedia({
            audio: options.microphoneId ? { deviceId: { exact: options.microphoneId } } : true,
            video: options.media === 'video' ? (options.cameraId ? { deviceId: { exact: options.cameraId } } : true) : false,
        });
        if (call === null || call.callId !== options.callId) {
            stream.getTracks().forEach(t => t.stop()); // hung up while the devices opened
            return { mediaError: 'ended', hasAudio: false, hasVideo: false };
        }
        call.audio = stream.getAudioTracks()[0] ?? null;
        call.camera = stream.getVideoTracks()[0] ?? null;
    } catch (e) {
        if (call === null) return { mediaError: 'ended', hasAudio: false, hasVideo: false };
        // No microphone/camera, or refused: the call goes on receive-only and says why.
        call.mediaError = `${e.name}: ${e.message}`;
        call.cameraOn = false;
    }
    if (call.audio) call.local.addTrack(call.audio);
    if (call.camera) call.local.addTrack(call.camera);
    // A peer made while the devices were still opening sends them too (renegotiating).
    for (const p of call.peers.values()) {
        if (call.audio && !p.audioSender) p.audioSender = p.pc.addTrack(call.audio, call.local);
        if (call.camera && !p.cameraSender) p.cameraSender = p.pc.addTrack(call.camera, call.local);
    }
    showLocal();
    return { mediaError: call.mediaError, hasAudio: !!call.audio, hasVideo: !!call.camera };
}

/** Connects to a remote device of the call (no-op when already connected). */
export function connect(deviceId) {
    if (!call) {
        console.debug(`calls: connect to ${deviceId} without a call`);
        return;
    }
    if (deviceId === call.selfDeviceId) return;
    // One side of each pair starts the connection (the smaller device id); the other answers its offer. Both sides
    // learn of each other at about the same moment, and two offers crossing, though perfect negotiation resolves
    // them, sometimes left a connection that never started under load.
    if (call.selfDeviceId > deviceId && !call.peers.has(deviceId)) return;
    peer(deviceId);
}

/** A signal from another device of the call (an offer, an answer, a candidate, or what it shares). */
export function signal(fromDeviceId, payload) {
    if (!call) return;
    const p = peer(fromDeviceId);
    // In order, one at a time per peer: an answer must not overtake the offer it answers.
    p.negotiation.receive(JSON.parse(payload));
}

/** A remote device left: closes its connection and removes its tile. */
export function disconnect(deviceId) {
    const p = call?.peers.get(deviceId);
    if (!p) return;
    p.pc.close();
    p.tile.remove();
    call.peers.delete(deviceId);
}

/** Ends this window's side: every connection closed, camera and microphone released. */
export async function hangUp() {
    ring(false);
    if (!call) return;
    const ending = call;
    call = null;
    clearTimeout(ending.refreshTimer);
    for (const p of ending.peers.values()) {
        p.pc.close();
        p.tile.remove();
    }
    for (const track of [ending.audio, ending.camera, ending.screen]) track?.stop();
    const local = ending.stage?.querySelector('.tile.local');
    local?.remove();
}

/** Mute: the microphone track is disabled (it sends silence; nothing of the room's sound leaves). */
export function setMuted(muted) {
    if (!call) return false;
    call.muted = muted;
    if (call.audio) call.audio.enabled = !muted;
    return call.audio ? !call.audio.enabled : true;
}

/** Camera off releases the camera and sends no frames; on takes it again (adding a video track if the call had none). */
export async function setCamera(on, cameraId) {
    if (!call) return false;
    if (!on) {
        call.cameraOn = false;
        call.camera?.stop();
        call.camera = null;
        for (const p of call.peers.values()) await p.cameraSender?.replaceTrack(null);
        showLocal();
        return false;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: cameraId ? { deviceId: { exact: cameraId } } : true });
    call.camera = stream.getVideoTracks()[0];
    call.cameraOn = true;
    for (const p of call.peers.values()) {
        if (p.cameraSender) await p.cameraSender.replaceTrack(call.camera);
        else p.cameraSender = p.pc.addTrack(call.camera, call.local); // renegotiates
    }
    showLocal();
    return true;
}

/** Switches the microphone during the call (no renegotiation: the sender's track is replaced). */
export async function setMicrophone(deviceId) {
    if (!call) return;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId } } });
    const track = stream.getAudioTracks()[0];
    track.enabled = !call.muted;
    for (const p of call.peers.values()) await p.audioSender?.replaceTrack(track);
    call.audio?.stop();
    call.audio = track;
}

/** Where remote sound plays (HTMLMediaElement.setSinkId). */
export async function setSpeaker(deviceId) {
    if (!call?.stage) return;
    call.speakerId = deviceId;
    for (const media of call.stage.querySelectorAll('video, audio')) {
        if (media.setSinkId) await media.setSinkId(deviceId);
    }
}

/** Shares the screen (getDisplayMedia), added to every connection by renegotiation; false stops it. */
export async function shareScreen(on) {
    if (!call) return false;
    if (!on) {
        stopScreen();
        return false;
    }
    let stream;
    try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
    } catch (e) {
        if (e.name === 'NotAllowedError') throw e;
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true }); // no capturable sound here
    }
    call.screen = stream.getVideoTracks()[0];
    call.screenStream = stream;
    call.screen.addEventListener('ended', () => {
        stopScreen();
        call?.dotnet.invokeMethodAsync('ScreenShareStopped');
    });
    for (const p of call.peers.values()) addScreen(p);
    return true;
}

/** The media devices for the device pickers (labels appear once a permission was given). */
export async function devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.map(d => ({ kind: d.kind, deviceId: d.deviceId, label: d.label || d.kind }));
}

/** Rings (a two-tone pattern made with WebAudio, no sound file) or stops ringing. */
export function ring(on) {
    if (!on) {
        if (ringer) {
            clearInterval(ringer.timer);
            ringer.context.close();
            ringer = null;
        }
        return false;
    }
    if (ringer) return true;
    const context = new AudioContext();
    const gain = context.createGain();
    gain.gain.value = 0;
    gain.connect(context.destination);
    for (const frequency of [440, 480]) {
        const oscillator = context.createOscillator();
        oscillator.frequency.value = frequency;
        oscillator.connect(gain);
        oscillator.start();
    }
    const burst = () => {
        const t = context.currentTime;
        gain.gain.setValueAtTime(0.15, t);
        gain.gain.setValueAtTime(0, t + 1.2);
    };
    burst();
    ringer = { context, timer: setInterval(burst, 3000) };
    return true;
}

/** Whether the ringtone plays (for tests and the UI). */
export function ringing() {
    return ringer !== null;
}

/** New ICE servers (fresh TURN credentials): used for new connections and ICE restarts from now on. */
export function updateIceServers(iceServers) {
    if (!call) return;
    call.config = configuration(iceServers, call.relayOnly);
    for (const p of call.peers.values()) p.pc.setConfiguration(call.config);
    scheduleIceRefresh(iceServers?.expiresAt);
}

/**
 * What the call view shows and tests check, per remote device, from getStats: the connection path (from the
 * selected candidate pair: direct, or through a relay), round-trip time, loss, bitrate, decoded frames, audio.
 */
export async function stats() {
    if (!call) return { active: false, peers: [] };
    const peers = [];
    for (const [deviceId, p] of call.peers) peers.push(await peerStats(deviceId, p));
    return {
        active: true,
        muted: !call.audio || !call.audio.enabled,
        audioTrackEnabled: call.audio ? call.audio.enabled : false,
        cameraOn: !!call.camera && call.camera.readyState === 'live',
        sharing: !!call.screen,
        mediaError: call.mediaError,
        peers,
    };
}

// ------------------------------------------------------------------------------------------------ internals

function configuration(iceServers, relayOnly) {
    const servers = (iceServers?.iceServers ?? []).map(s => {
        const entry = { urls: s.urls };
        if (s.username) entry.username = s.username;
        if (s.credential) entry.credential = s.credential;
        return entry;
    });
    return { iceServers: servers, iceTransportPolicy: relayOnly ? 'relay' : 'all', bundlePolicy: 'max-bundle' };
}

function scheduleIceRefresh(expiresAt) {
    if (!call || !expiresAt) return;
    clearTimeout(call.refreshTimer);
    // A minute before the TURN credentials expire (at least 10 s from now), fetch new ones through C#.
    const due = Math.max(10_000, new Date(expiresAt).getTime() - Date.now() - 60_000);
    const current = call;
    current.refreshTimer = setTimeout(async () => {
        if (call !== current) return;
        try {
            updateIceServers(await current.dotnet.invokeMethodAsync('RefreshIceServers'));
        } catch (e) {
            console.warn('calls: ICE server refresh failed', e);
            scheduleIceRefresh(new Date(Date.now() + 70_000).toISOString());
        }
    }, Math.min(due, 2_000_000_000));
}

function peer(deviceId) {
    let p = call.peers.get(deviceId);
    if (p) return p;
    const pc = new RTCPeerConnection(call.config);
    p = {
        deviceId,
        pc,
        // Deterministic roles: the device with the smaller id yields in a collision.
        polite: call.selfDeviceId < deviceId,
        tile: tile(deviceId),
        audioSender: null,
        cameraSender: null,
        screenSender: null,
        screenStreams: new Set(),
        streams: new Map(),
        last: null,
        firstFrameAt: null,
    };
    call.peers.set(deviceId, p);
    trace(p, 'peer created');
    const current = call;
    const send = message => current.dotnet.invokeMethodAsync('Signal', deviceId, JSON.stringify(message))
        .catch(e => console.warn('calls: signal not sent', e));
    p.send = send;

    p.negotiation = negotiate(pc, { polite: p.polite, send, trace: what => trace(p, what), other: message => screenSignal(p, message) });
    pc.onconnectionstatechange = () => {
        trace(p, `connection ${pc.connectionState}`);
        p.tile.dataset.state = pc.connectionState;
        current.dotnet.invokeMethodAsync('PeerStateChanged', deviceId, pc.connectionState).catch(() => { });
    };
    pc.ontrack = ({ track, streams }) => {
        const stream = streams[0] ?? new MediaStream([track]);
        if (p.screenStreams.has(stream.id)) {
            showScreen(p, stream);
        } else {
            const video = p.tile.querySelector('video.camera');
            if (video.srcObject !== stream) video.srcObject = stream;
            if (track.kind === 'video' && p.firstFrameAt == null && video.requestVideoFrameCallback) {
                // When the first remote frame is painted (performance.now()): the benchmark's end point.
                video.requestVideoFrameCallback(now => { p.firstFrameAt ??= now; });
            }
        }
    };

    if (call.audio) p.audioSender = pc.addTrack(call.audio, call.local);
    if (call.camera) p.cameraSender = pc.addTrack(call.camera, call.local);
    if (call.screen) addScreen(p);
    return p;
}

/** What a peer shares: sent before the renegotiation that adds the screen track, so ontrack knows it is the screen. */
function screenSignal(p, { screen }) {
    if (!screen) return;
    if (screen.on) p.screenStreams.add(screen.streamId);
    else removeScreen(p, screen.streamId);
}

/** A line on the console about one peer's negotiation (devtools, and the call tests' failure messages). */
function trace(p, what) {
    console.debug(`calls …${call?.callId?.slice(-8)} ${p.deviceId.slice(0, 10)} ${p.polite ? 'polite' : 'impolite'}: ${what}`);
}

function addScreen(p) {
    if (p.screenSender) return;
    p.send({ screen: { on: true, streamId: call.screenStream.id } });
    p.screenSender = p.pc.addTrack(call.screen, call.screenStream); // renegotiates
}

function stopScreen() {
    if (!call?.screen) return;
    const streamId = call.screenStream.id;
    call.screen.stop();
    for (const track of call.screenStream.getTracks()) track.stop();
    call.screen = null;
    call.screenStream = null;
    for (const p of call.peers.values()) {
        if (p.screenSender) {
            p.pc.removeTrack(p.screenSender); // renegotiates
            p.screenSender = null;
            p.send({ screen: { on: false, streamId } });
        }
    }
}

function tile(deviceId) {
    const element = document.createElement('div');
    element.className = 'tile remote';
    element.dataset.device = deviceId;
    const video = document.createElement('video');
    video.className = 'camera';
    video.autoplay = true;
    video.playsInline = true;
    element.append(video);
    if (call.speakerId && video.setSinkId) video.setSinkId(call.speakerId).catch(() => { });
    call.stage?.append(element);
    return element;
}

function showScreen(p, stream) {
    let video = p.tile.querySelector('video.screen');
    if (!video) {
        video = document.createElement('video');
        video.className = SCREEN_KIND;
        video.autoplay = true;
        video.playsInline = true;
        video.muted = true; // its sound (if any) plays through the camera element's stream
        p.tile.prepend(video);
        p.tile.classList.add('sharing');
    }
    video.srcObject = stream;
}

function removeScreen(p, streamId) {
    p.screenStreams.delete(streamId);
    p.tile.querySelector('video.screen')?.remove();
    p.tile.classList.remove('sharing');
}

function showLocal() {
    if (!call?.stage) return;
    let element = call.stage.querySelector('.tile.local');
    if (!element) {
        element = document.createElement('div');
        element.className = 'tile local';
        const video = document.createElement('video');
        video.autoplay = true;
        video.muted = true; // never play one's own microphone
        video.playsInline = true;
        element.append(video);
        call.stage.prepend(element);
    }
    element.querySelector('video').srcObject = call.camera ? new MediaStream([call.camera]) : null;
    element.classList.toggle('camera-off', !call.camera);
}

async function peerStats(deviceId, p) {
    const report = await p.pc.getStats();
    const byId = new Map();
    report.forEach(s => byId.set(s.id, s));
    let pair = null;
    let transport = null;
    report.forEach(s => { if (s.type === 'transport') transport = s; });
    if (transport?.selectedCandidatePairId) pair = byId.get(transport.selectedCandidatePairId);
    if (!pair) report.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
    const local = pair ? byId.get(pair.localCandidateId) : null;
    const remote = pair ? byId.get(pair.remoteCandidateId) : null;

    let framesDecoded = 0, videoBytes = 0, audioPackets = 0, audioBytes = 0, audioEnergy = 0, packetsLost = 0, packetsReceived = 0;
    const videoTracks = [];
    let audioLevel = 0;
    report.forEach(s => {
        if (s.type !== 'inbound-rtp') return;
        packetsLost += s.packetsLost ?? 0;
        packetsReceived += s.packetsReceived ?? 0;
        if (s.kind === 'video') {
            framesDecoded += s.framesDecoded ?? 0;
            videoBytes += s.bytesReceived ?? 0;
            videoTracks.push({ trackIdentifier: s.trackIdentifier, mid: s.mid, framesDecoded: s.framesDecoded ?? 0 });
        } else if (s.kind === 'audio') {
            audioPackets += s.packetsReceived ?? 0;
            audioBytes += s.bytesReceived ?? 0;
            audioEnergy += s.totalAudioEnergy ?? 0;
            audioLevel = Math.max(audioLevel, s.audioLevel ?? 0);
        }
    });
    const screenVideo = p.tile.querySelector('video.screen');
    const screenTrackId = screenVideo?.srcObject?.getVideoTracks()[0]?.id;
    const screenFramesDecoded = screenTrackId
        ? videoTracks.filter(v => v.trackIdentifier === screenTrackId).reduce((n, v) => n + v.framesDecoded, 0)
        : 0;

    const now = performance.now();
    const bytes = videoBytes + audioBytes;
    let bitrateKbps = 0;
    if (p.last && now > p.last.at) bitrateKbps = Math.round((bytes - p.last.bytes) * 8 / (now - p.last.at));
    let lossPercent = 0;
    if (p.last) {
        const lost = packetsLost - p.last.lost, received = packetsReceived - p.last.received;
        lossPercent = lost + received > 0 ? Math.max(0, Math.round(1000 * lost / (lost + received)) / 10) : 0;
    }
    p.last = { at: now, bytes, lost: packetsLost, received: packetsReceived };

    const relayed = local?.candidateType === 'relay' || remote?.candidateType === 'relay';
    p.tile.classList.toggle('speaking', audioLevel > 0.02); // the speaking indicator / active-speaker highlight
    return {
        deviceId,
        connectionState: p.pc.connectionState,
        path: pair ? (relayed ? 'relay' : 'direct') : 'connecting',
        localCandidateType: local?.candidateType ?? null,
        remoteCandidateType: remote?.candidateType ?? null,
        protocol: local?.protocol ?? null,
        // DTLS-SRTP is the only media transport WebRTC has; the transport says the DTLS handshake finished.
        dtlsState: transport?.dtlsState ?? null,
        srtpCipher: transport?.srtpCipher ?? null,
        roundTripMs: pair?.currentRoundTripTime != null ? Math.round(pair.currentRoundTripTime * 1000) : null,
        lossPercent,
        bitrateKbps,
        framesDecoded,
        screenFramesDecoded,
        videoTracks,
        audioPacketsReceived: audioPackets,
        audioEnergy,
        speaking: audioLevel > 0.02,
        firstFrameAt: p.firstFrameAt ?? null,
    };
}

// For automation (tests, benchmarks) and the devtools console: the same functions C# calls.
globalThis.conntextCalls = { stats, ringing, devices };

/** Switches the camera during the call (replaces the sender's track; no renegotiation). */
export async function setCameraDevice(deviceId) {
    if (!call) return false;
    call.camera?.stop();
    return setCamera(true, deviceId);
}
