import { describe, expect, it } from 'vitest';
import { batchPerTurn } from './turn-batcher.js';

/** A send that records its batches and answers each only when told to. */
function controlledSend() {
  const batches: number[][] = [];
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const send = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<number[]>((resolve, reject) => {
      pending.push({ resolve: () => resolve(items.map((item) => item * 10)), reject });
    });
  };
  return { send, batches, pending };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batchPerTurn', () => {
  it('sends the calls of one turn together, in order, at most `max` at once, and answers each', async () => {
    const { send, batches, pending } = controlledSend();
    const call = batchPerTurn(send, 3);
    const answers = [1, 2, 3, 4, 5].map((item) => call(item));
    await nextTurn();
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    pending.forEach((batch) => batch.resolve());
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50]);
  });

  it('with maxInFlight, holds what is asked while batches are out and sends it as one batch when one comes back', async () => {
    const { send, batches, pending } = controlledSend();
    const call = batchPerTurn(send, 100, 1);
    const first = call(1);
    await nextTurn();
    const later = [call(2), call(3)];
    await nextTurn();
    later.push(call(4));
    await nextTurn();
    expect(batches).toEqual([[1]]); // one out: the rest waits, over several turns
    pending[0]!.resolve();
    expect(await first).toBe(10);
    await nextTurn();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    pending[1]!.resolve();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('with maxInFlight, still splits what waited at `max`', async () => {
    const { send, batches, pending } = controlledSend();
    const call = batchPerTurn(send, 2, 1);
    const answers = [call(1)];
    await nextTurn();
    answers.push(call(2), call(3), call(4), call(5), call(6));
    await nextTurn();
    expect(batches).toEqual([[1]]);
    for (let i = 0; i < 4; i++) {
      pending[i]!.resolve();
      await nextTurn();
    }
    expect(batches).toEqual([[1], [2, 3], [4, 5], [6]]);
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('fails every call of a failed batch, and only those; the next batch goes', async () => {
    const { send, batches, pending } = controlledSend();
    const call = batchPerTurn(send, 100, 1);
    const failing = [call(1), call(2)].map((answer) => answer.then(() => 'answered', (error: Error) => error.message));
    await nextTurn();
    const after = call(3);
    await nextTurn();
    pending[0]!.reject(new Error('connection lost'));
    expect(await Promise.all(failing)).toEqual(['connection lost', 'connection lost']);
    await nextTurn();
    expect(batches).toEqual([[1, 2], [3]]);
    pending[1]!.resolve();
    expect(await after).toBe(30);
  });

  it('fails the calls of a batch answered with the wrong number of answers', async () => {
    const call = batchPerTurn(async (items: readonly number[]) => items.slice(1), 100);
    const answers = [call(1), call(2)].map((answer) => answer.then(() => 'answered', (error: Error) => error.message));
    expect(await Promise.all(answers)).toEqual(['1 answers for 2 calls', '1 answers for 2 calls']);
  });
});
