// Calls made in one turn of the event loop, sent on together: the quota charges of a busy node
// arrive many per turn, and each batch costs one message or round trip and one commit instead of
// one per charge.

/**
 * A function taking one item at a time and answering each; the items asked for in the same turn
 * go to `send` together (at most `max` at once, the rest in the next batch), in the order asked,
 * and `send` answers them in that order. A failed batch fails each of its calls.
 */
export function batchPerTurn<I, O>(send: (items: readonly I[]) => Promise<readonly O[]>, max: number): (item: I) => Promise<O> {
  type Waiting = { item: I; resolve: (outcome: O) => void; reject: (error: unknown) => void };
  let waiting: Waiting[] = [];
  const flush = () => {
    if (waiting.length === 0) return; // sent already, full
    const batch = waiting;
    waiting = [];
    send(batch.map((entry) => entry.item)).then(
      (outcomes) => {
        if (outcomes.length !== batch.length) throw new Error(`${outcomes.length} answers for ${batch.length} calls`);
        batch.forEach((entry, i) => entry.resolve(outcomes[i]!));
      },
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    ).catch((error: unknown) => batch.forEach((entry) => entry.reject(error)));
  };
  return (item) =>
    new Promise((resolve, reject) => {
      const count = waiting.push({ item, resolve, reject });
      if (count === max) flush();
      else if (count === 1) setImmediate(flush);
    });
}
