import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AgentToServer,
  answerAsDtlsServer,
  ConsoleToAgent,
  ConsoleToServer,
  decodeMessage,
  encodeMessage,
  GrantClaims,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  sdpRequestsAudio,
  ServerToAgent,
} from '../src';

const key = { type: 'input.key', code: 'Digit1', down: true, modifiers: { shift: true, ctrl: false, alt: false, meta: false } } as const;

describe('decodeMessage', () => {
  it('round-trips a message through encodeMessage', () => {
    const result = decodeMessage(ConsoleToAgent, encodeMessage(key));
    expect(result).toEqual({ ok: true, value: { v: PROTOCOL_VERSION, ...key } });
  });

  it('refuses unknown fields, so nothing unvalidated rides along', () => {
    const result = decodeMessage(ConsoleToAgent, JSON.stringify({ v: 1, ...key, text: 'rm -rf /' }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('bad_request');
  });

  it('refuses another protocol version with its own code', () => {
    const result = decodeMessage(ConsoleToAgent, JSON.stringify({ ...key, v: 2 }));
    expect(result.ok ? null : result.error.code).toBe('protocol_version');
  });

  it('refuses oversized input before parsing it', () => {
    const result = decodeMessage(ConsoleToAgent, `"${'x'.repeat(MAX_MESSAGE_BYTES)}"`);
    expect(result.ok ? null : result.error.code).toBe('payload_too_large');
  });

  it('refuses text where a key code belongs', () => {
    const result = decodeMessage(ConsoleToAgent, encodeMessage({ ...key, code: '!' }));
    expect(result.ok ? null : result.error.details?.[0]).toMatch(/^code:/);
  });

  it('names what was wrong, path first', () => {
    const result = decodeMessage(AgentToServer, encodeMessage({ type: 'agent.callState', inCall: 'yes' }));
    expect(result.ok ? null : result.error).toMatchObject({ code: 'bad_request', details: [expect.stringMatching(/^inCall:/)] });
  });

  it('never throws on arbitrary or mutated input', () => {
    const schemas = [AgentToServer, ServerToAgent, ConsoleToServer, ConsoleToAgent];
    const valid = encodeMessage(key);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.integer({ min: 0, max: valid.length - 1 }).map((cut) => valid.slice(0, cut) + valid.slice(cut + 1))), (raw) => {
        for (const schema of schemas) {
          const result = decodeMessage(schema, raw);
          expect(typeof result.ok).toBe('boolean');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('grant claims', () => {
  const claims = { iss: 'roomlink-server', aud: 'roomlink-agent', jti: 'g1', sid: 's1', tid: 't1', rid: 'r1', sub: 'u1', lvl: 'view', ptr: false, iat: 1, exp: 61 };

  it('accepts a well-formed grant and refuses one with an unknown level', () => {
    expect(GrantClaims.safeParse(claims).success).toBe(true);
    expect(GrantClaims.safeParse({ ...claims, lvl: 'admin' }).success).toBe(false);
    expect(GrantClaims.safeParse({ ...claims, aud: 'roomlink-console' }).success).toBe(false);
    // Pointer control is part of what the server signs: a grant that does not say is not one.
    const { ptr: _ptr, ...withoutPointer } = claims;
    expect(GrantClaims.safeParse(withoutPointer).success).toBe(false);
  });
});

describe('sdpRequestsAudio', () => {
  it('finds an audio m-line anywhere in the description', () => {
    expect(sdpRequestsAudio('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n')).toBe(false);
    expect(sdpRequestsAudio('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\n')).toBe(true);
  });
});

describe('answerAsDtlsServer', () => {
  const answer = (setup: string, eol: string) => ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', `a=setup:${setup}`, 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=setup:${setup}`, ''].join(eol);

  it('makes the answerer passive in every section, whatever the line endings', () => {
    for (const eol of ['\r\n', '\n']) expect(answerAsDtlsServer(answer('active', eol))).toBe(answer('passive', eol));
  });

  it('leaves an answer that already chose, or an offer, as it was', () => {
    for (const setup of ['passive', 'actpass']) expect(answerAsDtlsServer(answer(setup, '\r\n'))).toBe(answer(setup, '\r\n'));
    expect(answerAsDtlsServer('a=setup:activeX\r\n')).toBe('a=setup:activeX\r\n');
  });
});
