/** One reload at a time: calls while a load runs share it and ask for exactly one more afterwards, so the
 * last call always sees fresh data and a burst of live events costs two loads, not one per event. */
export function coalesced(load: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = load().finally(() => {
      running = null;
      if (again) {
        again = false;
        void run();
      }
    });
    return running;
  };
  return run;
}
