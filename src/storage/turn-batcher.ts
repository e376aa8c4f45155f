// Calls made in one turn of the event loop, sent on together: the quota charges of a busy node
// arrive many per turn, and each batch costs one message or round trip and one commit instead of
// one per charge.

/**
 * A function taking one item at a time and answering each; the items asked for in the same turn
 * go to `send` together (at most `max` at once, the rest in the next batch), in the order asked,
 * and `send` answers them in that order. A failed batch fails each of its calls.
 *
 * With `maxInFlight`, at most that many batches are out at once; items asked for meanwhile wait
 * and go in the next batch as soon as one comes back. For PostgreSQL's counters: charges of a busy
 * key all update one row, so their transactions take turns on its lock, each holding it through
 * its commit (a WAL flush). More batches out at once only queue on that lock and take pool
 * connections; fewer, bigger ones make one commit count for more charges.
 */
export function batchPerTurn<I, O>(send: (items: readonly I[]) => Promise<readonly O[]>, max: number, maxInFlight = Infinity): (item: I) => Promise<O> {
  type Waiting = { item: I; resolve: (outcome: O) => void; reject: (error: unknown) => void };
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.length <= max ? waiting : waiting.slice(0, max);
      waiting = batch === waiting ? [] : waiting.slice(max);
      inFlight++;
      send(batch.map((entry) => entry.item))
        .then(
          (outcomes) => {
            if (outcomes.length !== batch.length) throw new Error(`${outcomes.length} answers for ${batch.length} calls`);
            batch.forEach((entry, i) => entry.resolve(outcomes[i]!));
          },
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .catch((error: unknown) => batch.forEach((entry) => entry.reject(error)))
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };
  return (item) =>
    new Promise((resolve, reject) => {
      const count = waiting.push({ item, resolve, reject });
      if (count >= max && inFlight < maxInFlight) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
