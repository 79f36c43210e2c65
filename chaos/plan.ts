/**
 * What a chaos run does, decided from its seed before anything starts: the flows (scenario per flow),
 * when the worker is killed, after which kills the Temporal server restarts, and the vendor faults.
 * `--seed N` replays the same plan (the timing of a loaded machine still varies).
 */
import { seededRandom } from '../sandboxes/framework/faults';
import { SCENARIOS, type Provider, type Scenario } from '../sandboxes/play';

export const PROVIDERS: Provider[] = ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial'];

export interface Mode {
  name: 'quick' | 'full';
  kills: number;
  serverRestarts: number;
  /** Minimum flows per vendor (more start while the kills go on). */
  flowsPerVendor: number;
  /** Flows at once. */
  concurrency: number;
  /** Seconds between two kills (uniform). */
  killEvery: [number, number];
  /** The whole run's bound. */
  maxSeconds: number;
}

export const QUICK: Mode = {
  name: 'quick',
  kills: 10,
  serverRestarts: 1,
  flowsPerVendor: 3,
  concurrency: 5,
  killEvery: [4, 9],
  maxSeconds: 240,
};
export const FULL: Mode = {
  name: 'full',
  kills: 50,
  serverRestarts: 3,
  flowsPerVendor: 10,
  concurrency: 6,
  killEvery: [8, 16],
  maxSeconds: 2_400,
};

/** The vendor faults: together about 30% of vendor calls (1 - product of the misses). */
export const FAULT_MIX = [
  { mode: '5xx', probability: 0.12, status: 503 },
  { mode: '429', probability: 0.07, retryAfterSeconds: 1 },
  { mode: 'slow', probability: 0.03, delayMs: 2_000 },
  { mode: 'slow', probability: 0.02, delayMs: 8_000 },
  { mode: 'drop', probability: 0.05 },
  { mode: 'dropAfterHandling', probability: 0.07 },
] as const;

export const faultShare = () => 1 - FAULT_MIX.reduce((miss, f) => miss * (1 - f.probability), 1);

export interface Plan {
  seed: number;
  /** The flows in start order; the first ones cover every vendor `flowsPerVendor` times. */
  flows: Scenario[];
  /** Seconds to wait before each kill. */
  killGaps: number[];
  /** Kill indices (0-based) after which the Temporal server restarts. */
  restartAfterKill: Set<number>;
  /** A seed per vendor and fault (the sandbox draws from it). */
  faultSeeds: Record<Provider, number[]>;
}

export function makePlan(seed: number, mode: Mode): Plan {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const byVendor = (p: Provider) => SCENARIOS.filter((s) => s.provider === p);
  const flows: Scenario[] = [];
  // Round-robin over the vendors so every vendor runs all through the kills; scenarios at random, each
  // vendor's happy path at least once per round of three.
  for (let i = 0; i < 400; i++) {
    const p = PROVIDERS[i % PROVIDERS.length]!;
    const round = Math.floor(i / PROVIDERS.length);
    flows.push(round % 3 === 0 ? byVendor(p).find((s) => s.happy)! : pick(byVendor(p)));
  }
  const [lo, hi] = mode.killEvery;
  const killGaps = Array.from({ length: mode.kills }, () => lo + rnd() * (hi - lo));
  const restartAfterKill = new Set<number>();
  // Spread over the run: one restart in each equal slice of the kills, not the first or last kill.
  const slice = mode.kills / mode.serverRestarts;
  for (let r = 0; r < mode.serverRestarts; r++)
    restartAfterKill.add(Math.min(mode.kills - 2, Math.floor(r * slice + 1 + rnd() * (slice - 2))));
  const faultSeeds = Object.fromEntries(
    PROVIDERS.map((p) => [p, FAULT_MIX.map(() => Math.floor(rnd() * 2 ** 32))]),
  ) as Record<Provider, number[]>;
  return { seed, flows, killGaps, restartAfterKill, faultSeeds };
}
