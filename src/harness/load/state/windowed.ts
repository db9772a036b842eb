/** Bounded concurrency for the state builders: many requests, a fixed number in flight. */

/**
 * Runs f over 0..count-1 on at most `window` lanes (each lane awaits its call before taking the
 * next index); rejects on the first failure. `lane` lets a caller pin a lane to a session.
 */
export async function windowed(count: number, window: number, f: (i: number, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (l: number): Promise<void> => {
    while (next < count) await f(next++, l);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, window), count) }, (_, l) => lane(l)));
}
