/**
 * A run's clock. Scenario time runs `speed` times faster than real time from
 * the start, and stands still while the run is paused or after it ended, so
 * offsets and deadlines (written in scenario time) keep their meaning through
 * a pause and at any speed.
 */
export interface RunClock {
  /** Real time (ms) the run started; null while it has not. */
  startedAt: number | null;
  speed: number;
  /** Pauses in real time; the last one has no end while the run is paused. */
  pauses: readonly { from: number; to: number | null }[];
  /** Real time it completed or was aborted, or null. */
  endedAt: number | null;
}

/** Scenario time (ms since the start) at real time `at`. */
export function scenarioTime(clock: RunClock, at: number): number {
  if (clock.startedAt === null || at <= clock.startedAt) return 0;
  const until = clock.endedAt === null ? at : Math.min(at, clock.endedAt);
  let paused = 0;
  for (const pause of clock.pauses) {
    const from = Math.max(pause.from, clock.startedAt);
    const to = Math.min(pause.to ?? until, until);
    if (to > from) paused += to - from;
  }
  return Math.max(0, (until - clock.startedAt - paused) * clock.speed);
}

/**
 * The real time at which scenario time reaches `offset`, if the clock keeps
 * running from `now` without another pause; null when it cannot (not started,
 * ended before).
 */
export function realTimeOf(clock: RunClock, offset: number, now: number): number | null {
  if (clock.startedAt === null) return null;
  const elapsed = scenarioTime(clock, now);
  if (offset <= elapsed) {
    // Already passed: find it by walking the running stretches.
    let scenario = 0;
    let cursor = clock.startedAt;
    const pauses = [...clock.pauses].sort((a, b) => a.from - b.from);
    for (const pause of [...pauses, { from: Infinity, to: null }]) {
      const stretch = Math.min(pause.from, clock.endedAt ?? Infinity, now) - cursor;
      if (scenario + stretch * clock.speed >= offset) return cursor + (offset - scenario) / clock.speed;
      scenario += Math.max(0, stretch) * clock.speed;
      if (pause.to === null) break;
      cursor = pause.to;
    }
    return now;
  }
  const running = clock.endedAt === null && !clock.pauses.some((pause) => pause.to === null);
  if (!running) return null;
  return now + (offset - elapsed) / clock.speed;
}
