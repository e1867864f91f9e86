/**
 * A byte guard on a `pg` connection's socket: the size of every DataRow message is read from its header
 * before its payload arrives, and a message that would take the result past the limit is never received —
 * the connection is closed at its header. Without it, pg would buffer a 600 MB value whole and then fail
 * to make a string of it (V8's limit is ~512 MB) inside a socket handler, which takes the process down.
 *
 * Protocol (PostgreSQL v3, backend messages): a type byte, then an int32 length that counts itself and the
 * payload. DataRow is type 'D'. The guard scans the stream the client reads (the TLS socket after an SSL
 * upgrade, so it sees plain protocol bytes), counting only while `start()`ed:
 *   bytes  = Σ (1 + length) over the DataRow messages received since start()
 *   sizes  = those message sizes in order (row i of the result has size sizes[i])
 *   trip   = the first DataRow header with bytes + 1 + length > limit: `tripped` is set and the socket is
 *            destroyed; the rows received before it are the result.
 * The guard's listener runs before pg's parser on the same chunk, so pg may still complete a small row that
 * arrived in that chunk: `sizes` tells the caller how many rows fit.
 *
 * @example
 * const guard = dataRowGuard(client);
 * guard.start(16 * 2 ** 20);
 * const result = await client.query("FETCH FORWARD 64 FROM c").catch((e) => (guard.tripped ? null : Promise.reject(e)));
 * guard.stop();
 */
import type { Duplex } from "node:stream";

const DATA_ROW = 0x44; // 'D'
const HEADER_BYTES = 5;

export class DataRowGuard {
  /** Bytes of DataRow messages since `start()`. */
  bytes = 0;
  /** Each DataRow message's size since `start()`, in order. */
  sizes: number[] = [];
  /** A message would have passed the limit: the socket was destroyed. */
  tripped = false;
  private limit = Number.POSITIVE_INFINITY;
  private active = false;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private payloadLeft = 0;

  constructor(private readonly stream: Duplex) {
    stream.prependListener("data", (chunk: Buffer) => this.scan(chunk));
  }

  /** Starts counting the DataRow bytes of one result, at most `limit` bytes. */
  start(limit: number): void {
    this.active = true;
    this.limit = limit;
    this.bytes = 0;
    this.sizes = [];
    this.tripped = false;
  }

  stop(): void {
    this.active = false;
  }

  private scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.tripped) {
      if (this.payloadLeft > 0) {
        const skip = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= skip;
        i += skip;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + take);
      this.headerFill += take;
      i += take;
      if (this.headerFill < HEADER_BYTES) return;
      this.headerFill = 0;
      const length = this.header.readUInt32BE(1);
      this.payloadLeft = length - 4;
      if (!this.active || this.header[0] !== DATA_ROW) continue;
      const size = 1 + length;
      if (this.bytes + size > this.limit) {
        this.tripped = true;
        this.stream.destroy(new Error(`a result row of ${size} bytes would pass the ${this.limit}-byte result limit`));
        return;
      }
      this.bytes += size;
      this.sizes.push(size);
    }
  }
}

const guards = new WeakMap<object, DataRowGuard>();

/** The guard of a connected `pg` client (created on first use; one per connection). */
export function dataRowGuard(client: object): DataRowGuard {
  let guard = guards.get(client);
  if (guard === undefined) {
    const stream = (client as { connection?: { stream?: Duplex } }).connection?.stream;
    if (stream === undefined || typeof stream.prependListener !== "function")
      throw new Error("dataRowGuard: the client has no socket stream (is it a pg.Client?)");
    guard = new DataRowGuard(stream);
    guards.set(client, guard);
    // A checked-out pg client has no 'error' listener (pg-pool removes its own while the client is out): the
    // destroyed socket's error reaches the running query anyway, so the event itself is dropped here.
    (client as { on?: (event: string, listener: () => void) => unknown }).on?.("error", () => undefined);
  }
  return guard;
}
