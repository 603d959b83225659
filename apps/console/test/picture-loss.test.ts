import { describe, expect, it } from 'vitest';
import { pictureLossRequests } from '../src/renderer/session/connection';

const report = (entries: object[]) => new Map(entries.map((entry, i) => [String(i), entry])) as unknown as RTCStatsReport;

describe('picture loss', () => {
  it('counts the PLI and FIR requests of inbound video only', () => {
    expect(
      pictureLossRequests(
        report([
          { type: 'inbound-rtp', kind: 'video', pliCount: 2, firCount: 1 },
          { type: 'inbound-rtp', kind: 'audio', pliCount: 5 },
          { type: 'outbound-rtp', kind: 'video', pliCount: 7 },
          { type: 'transport' },
        ]),
      ),
    ).toBe(3);
  });

  it('is zero before any video arrives', () => {
    expect(pictureLossRequests(report([{ type: 'inbound-rtp', kind: 'video' }]))).toBe(0);
  });
});
