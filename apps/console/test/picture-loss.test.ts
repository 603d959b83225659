import { describe, expect, it } from 'vitest';
import { pictureLoss, pictureLost } from '../src/renderer/session/connection';

const report = (entries: object[]) => new Map(entries.map((entry, i) => [String(i), entry])) as unknown as RTCStatsReport;

describe('picture loss', () => {
  it('counts the PLI and FIR requests and lost packets of inbound video only', () => {
    expect(
      pictureLoss(
        report([
          { type: 'inbound-rtp', kind: 'video', pliCount: 2, firCount: 1, packetsLost: 4 },
          { type: 'inbound-rtp', kind: 'audio', pliCount: 5, packetsLost: 9 },
          { type: 'outbound-rtp', kind: 'video', pliCount: 7 },
          { type: 'transport' },
        ]),
      ),
    ).toEqual({ requests: 3, packetsLost: 4 });
  });

  it('is nothing before any video arrives', () => {
    expect(pictureLoss(report([{ type: 'inbound-rtp', kind: 'video' }]))).toEqual({ requests: 0, packetsLost: 0 });
  });

  it('asks for the picture again only when a request follows lost packets', () => {
    const before = { requests: 1, packetsLost: 0 };
    expect(pictureLost(before, { requests: 2, packetsLost: 3 })).toBe(true);
    // A still screen: the receiver asks, nothing was lost.
    expect(pictureLost(before, { requests: 2, packetsLost: 0 })).toBe(false);
    expect(pictureLost(before, { requests: 1, packetsLost: 3 })).toBe(false);
  });
});
