// "Perfect negotiation" (the W3C WebRTC pattern) for one RTCPeerConnection, shared by calls (calls.js) and the
// direct file transfer (peers.js): both sides may offer at any time (glare, renegotiation, ICE restarts); the polite
// side yields in a collision, the impolite one ignores the other's offer. Roles must be opposite on the two sides
// (each derives them from the two device ids).

/**
 * Wires pc's negotiation to send(message) and returns { receive(message) }: messages ({ description } or
 * { candidate }, or anything else for other(message)) are handled one at a time in arrival order, so an answer never
 * overtakes the offer it answers.
 */
export function negotiate(pc, { polite, send, trace = () => { }, other = () => { } }) {
    let makingOffer = false;
    let ignoreOffer = false;
    let queue = Promise.resolve();

    pc.onnegotiationneeded = async () => {
        try {
            makingOffer = true;
            await pc.setLocalDescription();
            trace(`${pc.localDescription.type} out (negotiation needed)`);
            await send({ description: pc.localDescription });
        } catch (e) {
            console.warn('negotiation failed', e);
        } finally {
            makingOffer = false;
        }
    };
    pc.onicecandidate = ({ candidate }) => {
        if (candidate) send({ candidate });
    };
    pc.oniceconnectionstatechange = () => {
        // A path that stopped working (network change, a direct path that failed): gather again, TURN included.
        if (pc.iceConnectionState === 'failed') pc.restartIce();
    };

    async function handle(message) {
        const { description, candidate } = message;
        if (description) {
            trace(`${description.type} in (${pc.signalingState}${makingOffer ? ', making offer' : ''})`);
            const offerCollision = description.type === 'offer' && (makingOffer || pc.signalingState !== 'stable');
            ignoreOffer = !polite && offerCollision;
            if (ignoreOffer) {
                trace('offer ignored (collision, impolite)');
                return;
            }
            await pc.setRemoteDescription(description);
            if (description.type === 'offer') {
                await pc.setLocalDescription();
                trace(`${pc.localDescription.type} out`);
                await send({ description: pc.localDescription });
            }
        } else if (candidate) {
            try {
                await pc.addIceCandidate(candidate);
            } catch (e) {
                if (!ignoreOffer) throw e; // a candidate of the offer this side ignored
            }
        } else {
            await other(message);
        }
    }

    return {
        receive(message) {
            queue = queue.then(() => handle(message)).catch(e => console.warn('signal failed', e));
            return queue;
        },
    };
}
