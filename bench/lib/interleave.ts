import { median, round } from './stats.js';

export interface Round<Floor, Hub> {
  round: number;
  floor: Floor;
  hub: Hub;
  /** hub ÷ floor for this round. */
  ratio: number;
}

export interface Interleaved<Floor, Hub> {
  rounds: Round<Floor, Hub>[];
  /** The median of the rounds' ratios: one slow moment of a shared machine moves it little. */
  medianRatio: number;
}

/**
 * Warms both sides up, then measures the floor and the hub alternately
 * (floor, hub, floor, hub, …), so whatever else the machine is doing weighs
 * on both alike, and reports each round's ratio and their median.
 */
export async function interleave<Floor, Hub>({
  rounds,
  warmUp,
  floor,
  hub,
  ratio,
  log,
}: {
  rounds: number;
  warmUp: () => Promise<unknown>;
  floor: (round: number) => Promise<Floor>;
  hub: (round: number) => Promise<Hub>;
  ratio: (hub: Hub, floor: Floor) => number;
  log: (message: string) => void;
}): Promise<Interleaved<Floor, Hub>> {
  await warmUp();
  const measured: Round<Floor, Hub>[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const floorResult = await floor(round);
    const hubResult = await hub(round);
    const value = ratio(hubResult, floorResult);
    measured.push({ round, floor: floorResult, hub: hubResult, ratio: round4(value) });
    log(`round ${round}/${rounds}: ratio ${value.toFixed(3)}`);
  }
  return { rounds: measured, medianRatio: round4(median(measured.map((r) => r.ratio))) };
}

const round4 = (value: number) => round(value, 4);
