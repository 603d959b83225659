/**
 * How many agent connections may prove their keys at once, and a line for
 * the ones that come while all slots are taken. After a node's loss its
 * agents all come back together: refused at once (503), each retried after
 * its backoff, which grows with every refusal; the cluster bench counted
 * 46,242 refusals for 10,000 agents and nobody back for most of a minute.
 * Waiting in line, an agent is taken the moment a slot frees, in the order
 * it came, and costs the node one idle socket until then.
 */
export class HandshakeSlots {
  private busy = 0;
  private readonly line: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly waiting: number,
  ) {}

  /** Connections proving their keys now. */
  get proving(): number {
    return this.busy;
  }

  /** Whether a new connection can neither prove now nor wait in line: it is refused before its upgrade. */
  get full(): boolean {
    return this.busy >= this.slots && this.line.length >= this.waiting;
  }

  /**
   * A slot for one connection: `ready` resolves once it is this
   * connection's; `release` gives it back (or leaves the line), once.
   */
  take(): { ready: Promise<void>; release: () => void } {
    let state: 'waiting' | 'proving' | 'done' = 'waiting';
    let start!: () => void;
    const ready = new Promise<void>((resolve) => {
      start = () => {
        state = 'proving';
        this.busy += 1;
        resolve();
      };
    });
    if (this.busy < this.slots) start();
    else this.line.push(start);
    const release = () => {
      if (state === 'done') return;
      if (state === 'waiting') this.line.splice(this.line.indexOf(start), 1);
      else {
        this.busy -= 1;
        this.line.shift()?.();
      }
      state = 'done';
    };
    return { ready, release };
  }
}
