/**
 * A fake clock for the ID360 session and sandbox: time moves only when told, timers fire in order, and
 * each timer's async work (a whoami over real HTTP) finishes before time moves on. Two hours of sliding
 * token expiry play in milliseconds, against the real sandbox server (whose token clock reads this one).
 */
import type { SessionClock } from '../../activities/id360-session';

export class FakeClock implements SessionClock {
  private t: number;
  private seq = 0;
  private timers: { id: number; at: number; fn: () => void }[] = [];

  constructor(start = Date.parse('2026-01-05T08:00:00Z')) {
    this.t = start;
  }

  now = (): number => this.t;

  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  };

  clearTimer = (handle: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== handle);
  };

  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, awaiting `settle` after each. */
  async advance(ms: number, settle: () => Promise<void> = async () => undefined): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      this.timers = this.timers.filter((x) => x !== next);
      next.fn();
      await settle();
    }
    this.t = end;
  }
}
