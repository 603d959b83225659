import { HealthSignal, healthSignalLabels, stateLevel, timelineStep, type Room, type RoomEvent, type RoomHistory, type RoomSubject } from '@roomlink/shared';
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { usePlatform } from '../store/store';
import { ErrorNote } from './ui';

const ranges = { '24 h': 86_400_000, '7 d': 7 * 86_400_000, '30 d': 30 * 86_400_000 } as const;
type Range = keyof typeof ranges;

/** The rows of the timeline, top to bottom, and what each state is worth on its row (0 good … 3 gone). */
const rows: { subject: RoomSubject; label: string }[] = [
  { subject: 'health', label: 'Health' },
  { subject: 'presence', label: 'Online' },
  ...HealthSignal.options.map((signal) => ({ subject: signal as RoomSubject, label: healthSignalLabels[signal] })),
];
const colours = ['#1f9d55', '#d69e2e', '#d64545', '#8a94a6'];
/** Before the history knows anything about a subject. */
const NO_DATA = '#eceff4';

export interface Lane {
  subject: RoomSubject;
  /** Seconds since the epoch, each the start of a state; the last repeats the end of the window. */
  times: number[];
  /** The level from each time on; null where the history says nothing yet. */
  values: (number | null)[];
  /** How many times the state changed in the window. */
  changes: number;
}

/** Step lanes from the history: each subject's state at the window's start, then one step per change, held to the window's end. */
export function lanes(history: RoomHistory): Lane[] {
  const from = Date.parse(history.from) / 1000;
  const to = Date.parse(history.to) / 1000;
  return rows.map(({ subject }) => {
    const start = history.initial.find((e) => e.subject === subject);
    const changes = history.events.filter((e: RoomEvent) => e.subject === subject);
    const times = [from, ...changes.map((e) => Date.parse(e.at) / 1000), to];
    const values = [start ? stateLevel(start.state) : null, ...changes.map((e) => stateLevel(e.state))];
    values.push(values[values.length - 1] ?? null);
    return { subject, times, values, changes: changes.length };
  });
}

/**
 * A room's health over the last day, week or month: one stepped lane per
 * subject, drawn with uPlot, sharing one time axis and cursor. It reloads
 * when the room's live state changes, so a change shows up without a click.
 */
export function HealthTimeline({ room }: { room: Room }) {
  const { api } = usePlatform();
  const [range, setRange] = useState<Range>('24 h');
  const [history, setHistory] = useState<RoomHistory | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const live = `${room.online}:${room.inCall}:${room.health}:${JSON.stringify(room.signals)}`;
  useEffect(() => {
    api.roomHistory(room.id, new Date(Date.now() - ranges[range]).toISOString(), timelineStep(ranges[range])).then(setHistory, (e: unknown) => setError(failureOf(e)));
  }, [api, room.id, range, live]);
  const data = useMemo(() => (history ? lanes(history) : []), [history]);
  // The step says which window is on screen: set once the lanes' charts exist (a parent's effects run after its children's).
  const section = useRef<HTMLElement>(null);
  useEffect(() => section.current?.setAttribute('data-step', String(history?.step ?? '')), [history]);

  return (
    <section ref={section} className="timeline" aria-label="Health over time">
      <div role="group" aria-label="Time range" className="ranges">
        {(Object.keys(ranges) as Range[]).map((r) => (
          <button key={r} type="button" aria-pressed={r === range} onClick={() => setRange(r)}>
            {r}
          </button>
        ))}
      </div>
      <ErrorNote error={error} />
      {data.map((lane, index) => (
        <LaneChart key={lane.subject} lane={lane} label={rows[index]!.label} axis={index === data.length - 1} />
      ))}
    </section>
  );
}

const cursorSync = uPlot.sync('room-timeline');

function LaneChart({ lane, label, axis }: { lane: Lane; label: string; axis: boolean }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: axis ? 56 : 30,
        legend: { show: false },
        // The same padding on every lane, so that their time axes line up with the one that shows its labels.
        padding: [3, 16, 3, 16],
        cursor: { sync: { key: cursorSync.key }, y: false },
        scales: { x: { time: true }, y: { range: [0, 3] } },
        axes: [{ show: axis, size: 26, font: '11px system-ui' }, { show: false }],
        series: [
          {},
          {
            label,
            stroke: (u) => laneGradient(u, lane),
            fill: (u) => laneGradient(u, lane),
            width: 0,
            paths: uPlot.paths.stepped!({ align: 1 }),
            value: (_u, v) => (v === null ? 'no data' : ['good', 'warning', 'error', 'offline'][v] ?? String(v)),
          },
        ],
      },
      // Every stretch fills its lane to the top, before the history begins too: the colour says the state, the height does not.
      [lane.times, lane.values.map(() => 3)],
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, element.clientWidth), height: axis ? 56 : 30 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [lane, label, axis]);
  return (
    <div className="lane" data-testid={`timeline-${lane.subject}`} data-changes={lane.changes} data-now={lane.values.at(-1) ?? ''}>
      <span className="lane-label">{label}</span>
      <div ref={holder} className="lane-chart" />
    </div>
  );
}

/** A horizontal gradient with a hard stop at each change: each stretch takes its state's colour. */
function laneGradient(u: uPlot, lane: Lane): CanvasGradient | string {
  const { left, width } = u.bbox;
  if (width <= 0) return colours[0]!;
  const gradient = u.ctx.createLinearGradient(left, 0, left + width, 0);
  for (let i = 0; i < lane.times.length - 1; i += 1) {
    const colour = lane.values[i] === null ? NO_DATA : colours[lane.values[i]!]!;
    const from = Math.min(1, Math.max(0, (u.valToPos(lane.times[i]!, 'x', true) - left) / width));
    const to = Math.min(1, Math.max(0, (u.valToPos(lane.times[i + 1]!, 'x', true) - left) / width));
    gradient.addColorStop(from, colour);
    gradient.addColorStop(to, colour);
  }
  return gradient;
}
