/** True when an SDP asks for audio in any way: an audio m-line, active or not (rule 9). */
export function sdpRequestsAudio(sdp: string): boolean {
  return /^m=audio\b/m.test(sdp);
}
