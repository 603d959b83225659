/**
 * Raises the video bitrate ceiling in an SDP. wrtc's encoder otherwise caps
 * near 2 Mbps and a fully changing 1080p screen falls to ~15 fps, and
 * `RTCRtpSender.setParameters()` throws in wrtc, so the ceiling travels in
 * the SDP: `b=AS` on the video section and x-google bitrates on every video
 * codec's fmtp line.
 */
export function raiseVideoBitrate(sdp: string, maxKbps: number, startKbps: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const out: string[] = [];
  let inVideo = false;
  let payloads = new Set<string>();
  const withFmtp = new Set<string>();
  const google = `x-google-max-bitrate=${maxKbps};x-google-min-bitrate=${Math.min(300, startKbps)};x-google-start-bitrate=${startKbps}`;

  const closeVideo = () => {
    if (!inVideo) return;
    for (const pt of payloads) if (!withFmtp.has(pt) && out.some((l) => l.startsWith(`a=rtpmap:${pt} `) && !/ (rtx|red|ulpfec)\//i.test(l))) out.push(`a=fmtp:${pt} ${google}`);
  };

  for (const line of lines) {
    if (line.startsWith('m=')) {
      closeVideo();
      inVideo = line.startsWith('m=video');
      payloads = new Set(inVideo ? line.split(' ').slice(3) : []);
      withFmtp.clear();
      out.push(line);
      continue;
    }
    if (inVideo && line.startsWith('b=AS:')) continue;
    if (inVideo && line.startsWith('c=')) {
      out.push(line, `b=AS:${maxKbps}`);
      continue;
    }
    const fmtp = inVideo ? /^a=fmtp:(\d+) (.*)$/.exec(line) : null;
    if (fmtp && !/apt=/.test(fmtp[2]!)) {
      withFmtp.add(fmtp[1]!);
      const params = fmtp[2]!.split(';').filter((p) => !p.startsWith('x-google-') && p !== '');
      out.push(`a=fmtp:${fmtp[1]} ${[...params, google].join(';')}`);
      continue;
    }
    if (fmtp) withFmtp.add(fmtp[1]!);
    out.push(line);
  }
  // The closing fmtp lines must sit inside the last section, before the trailing empty line.
  const trailing = out.at(-1) === '' ? out.pop() : undefined;
  closeVideo();
  if (trailing !== undefined) out.push(trailing);
  return out.join(eol);
}
