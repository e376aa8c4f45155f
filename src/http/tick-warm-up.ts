// Warms up Node's process.nextTick before the server starts, so that V8 optimises it for the
// shape of object it always builds.
//
// Node's own stream and HTTP code calls nextTick several times per request (ending and
// destroying the request body, finishing the response). nextTick builds each queued tick as an
// object literal with symbol keys, and V8 optimises nextTick with the type feedback gathered by
// the time it is hot. A server started on an otherwise idle machine got there during its own
// start-up and first requests, and then (all 10 servers measured, started 2 to 5 s apart; see
// bench/README.md, "Start-up state") its optimised nextTick created each tick object through
// V8's runtime (perf: Runtime_DefineKeyedOwnPropertyInLiteral, TransitionToDataProperty,
// MigrateToMap): about 3 µs more CPU per verify request, 15% fewer requests per second, for the
// life of the process.
//
// Calling nextTick a few thousand times first gets it optimised from these plain calls alone.
// The calls go in small batches that drain at once. With 5,000 queued at a time, tick objects
// survived young-generation collections; V8 then allocated every later one in the old generation,
// and the process spent its time in major GCs. Costs ~20 ms of start-up.
const ROUNDS = 500;
const PER_ROUND = 50;

const noop = (): void => undefined;

export async function warmUpNextTick(): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND; i++) process.nextTick(noop);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
