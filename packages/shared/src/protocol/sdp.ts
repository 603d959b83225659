/** True when an SDP asks for audio in any way: an audio m-line, active or not (rule 9). */
export function sdpRequestsAudio(sdp: string): boolean {
  return /^m=audio\b/m.test(sdp);
}

/**
 * An answer in which the answerer takes the DTLS server's role
 * (`a=setup:passive`, which RFC 5763 lets an answerer choose), so the room
 * starts the handshake. Measured on loopback with Chromium as the console:
 * with Chromium as the DTLS client the handshake ended 55-60 ms after ICE
 * connected (one 50 ms retransmission's worth), with the room as the client
 * 1-8 ms, and the median time to first frame fell by about 50 ms.
 */
export function answerAsDtlsServer(sdp: string): string {
  return sdp.replace(/^a=setup:active(?=\r?$)/gm, 'a=setup:passive');
}
