/**
 * Digest replay protection for the server's authenticator: which nonce counts each account has
 * used, in bounded memory that fails closed.
 *
 * - State is created only after a request authenticated (the caller checks the response hash
 *   first), so anonymous requests and wrong passwords never grow it.
 * - Each account has its own bounded set of nonces, so no account can push another account's
 *   nonces out (issue 10.4: a flood from one account used to evict Alice's counts and let her
 *   recorded PUT be replayed).
 * - Whatever is forgotten fails closed: when an account's oldest nonce is dropped, its `floor`
 *   rises to that nonce's issue time, and any nonce of that account issued at or before the floor
 *   that is not tracked any more is answered `forgotten` (the caller sends `stale=true`), never
 *   trusted. The same holds for a whole account dropped at the global bound (`globalFloor`).
 * - Nonce counts are tracked in a sliding window of {@linkcode NC_WINDOW} below the highest count
 *   seen, so concurrent requests on one nonce may arrive out of order; a count below the window
 *   can no longer be checked and is `forgotten` too.
 * - Nonces past their lifetime are stale by their signed timestamp anyway, so they are dropped
 *   without raising any floor.
 *
 * Pure and synchronous; internal to `auth.ts`.
 *
 * @module
 */

/** How many nonce counts below the highest one seen are still checked. */
export const NC_WINDOW = 128;

/** What {@linkcode ReplayGuard.use} decided for one nonce count. */
export type NonceCountUse =
  /** First use of this count: the request may proceed. */
  | "fresh"
  /** The count was used before with this nonce: a replay. */
  | "replayed"
  /** The state needed to check it was dropped (bounds, window): fail closed, send a new nonce. */
  | "forgotten";

/** Bounds of a {@linkcode ReplayGuard}. */
export interface ReplayGuardOptions {
  /** Most nonces tracked for one account. */
  readonly maxNoncesPerAccount: number;
  /** Most nonces tracked over all accounts. */
  readonly maxNonces: number;
  /** How long a nonce is valid, in milliseconds; older ones are dropped. */
  readonly lifetimeMs: number;
}

/**
 * One tracked nonce. Kept small (about 200 bytes with its key and map entry, 13 MiB at the
 * default 65,536 nonces): the window is four 32-bit words in fields, not a typed array.
 */
interface NonceRecord {
  /** When the nonce was issued (from its signed payload), in ms since the epoch. */
  readonly issued: number;
  /** The highest nonce count seen. */
  highest: number;
  /** Bit `nc % NC_WINDOW` of w0..w3 is set when `nc` (within the window) was used. */
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

interface AccountRecord {
  readonly nonces: Map<string, NonceRecord>;
  /** Untracked nonces issued at or before this time are `forgotten`. */
  floor: number;
  /** The newest issue time of any nonce ever tracked for this account. */
  newest: number;
}

/** Tracks used nonce counts per account; see the module documentation. */
export class ReplayGuard {
  readonly #accounts = new Map<string, AccountRecord>();
  readonly #maxPerAccount: number;
  readonly #maxNonces: number;
  readonly #lifetimeMs: number;
  #globalFloor = -Infinity;
  #size = 0;

  /** @param options The bounds. */
  constructor(options: ReplayGuardOptions) {
    this.#maxNonces = Math.max(1, Math.floor(options.maxNonces));
    this.#maxPerAccount = Math.min(
      this.#maxNonces,
      Math.max(1, Math.floor(options.maxNoncesPerAccount)),
    );
    this.#lifetimeMs = options.lifetimeMs;
  }

  /** Nonces tracked now, over all accounts. */
  get size(): number {
    return this.#size;
  }

  /** Accounts with tracked nonces now. */
  get accounts(): number {
    return this.#accounts.size;
  }

  /**
   * Record that `account` used nonce count `nc` of `nonce` (issued at `issued`).
   *
   * @param account Who authenticated (realm and account name).
   * @param nonce The nonce, as sent.
   * @param issued When it was issued, from its signed payload.
   * @param nc The nonce count, 1 to 2^32-1.
   * @param now The current time.
   * @returns Whether the count is fresh, replayed, or can no longer be checked.
   */
  use(account: string, nonce: string, issued: number, nc: number, now: number): NonceCountUse {
    let record = this.#accounts.get(account);
    if (record !== undefined) {
      // Most recently used last: the global bound drops the least recently used account.
      this.#accounts.delete(account);
      this.#accounts.set(account, record);
      this.#dropExpired(record, now);
    }
    let entry = record?.nonces.get(nonce);
    if (entry === undefined) {
      if (issued <= this.#globalFloor || (record !== undefined && issued <= record.floor)) {
        return "forgotten";
      }
      if (record === undefined) {
        record = { nonces: new Map(), floor: -Infinity, newest: -Infinity };
        this.#accounts.set(account, record);
      }
      if (record.nonces.size >= this.#maxPerAccount) this.#dropOldest(record);
      while (this.#size >= this.#maxNonces) {
        if (!this.#dropLeastRecentAccount(now, record)) break;
      }
      entry = { issued, highest: 0, w0: 0, w1: 0, w2: 0, w3: 0 };
      record.nonces.set(nonce, entry);
      record.newest = Math.max(record.newest, issued);
      this.#size++;
    }
    return useCount(entry, nc);
  }

  #dropExpired(record: AccountRecord, now: number): void {
    for (const [nonce, entry] of record.nonces) {
      if (now - entry.issued <= this.#lifetimeMs) break;
      record.nonces.delete(nonce);
      this.#size--;
    }
  }

  #dropOldest(record: AccountRecord): void {
    const oldest = record.nonces.entries().next().value;
    if (oldest === undefined) return;
    record.nonces.delete(oldest[0]);
    this.#size--;
    record.floor = Math.max(record.floor, oldest[1].issued);
  }

  /** Drop the least recently used other account; false when there is none. */
  #dropLeastRecentAccount(now: number, keep: AccountRecord): boolean {
    for (const [name, record] of this.#accounts) {
      if (record === keep) continue;
      this.#accounts.delete(name);
      this.#size -= record.nonces.size;
      // Every nonce of this account is forgotten now. Only those still within their lifetime
      // matter: the older ones are stale by their own timestamp.
      if (now - record.newest <= this.#lifetimeMs) {
        this.#globalFloor = Math.max(this.#globalFloor, record.newest, record.floor);
      }
      return true;
    }
    return false;
  }
}

function useCount(entry: NonceRecord, nc: number): NonceCountUse {
  if (nc > entry.highest) {
    // Clear the slots of the counts the window moves past.
    if (nc - entry.highest >= NC_WINDOW) {
      entry.w0 =
        entry.w1 =
        entry.w2 =
        entry.w3 =
          0;
    } else for (let n = entry.highest + 1; n <= nc; n++) setBit(entry, n, false);
    entry.highest = nc;
    setBit(entry, nc, true);
    return "fresh";
  }
  if (entry.highest - nc >= NC_WINDOW) return "forgotten";
  if (getBit(entry, nc)) return "replayed";
  setBit(entry, nc, true);
  return "fresh";
}

function word(entry: NonceRecord, index: number): number {
  return index === 0 ? entry.w0 : index === 1 ? entry.w1 : index === 2 ? entry.w2 : entry.w3;
}

function getBit(entry: NonceRecord, n: number): boolean {
  const slot = n % NC_WINDOW;
  return (word(entry, slot >> 5) & (1 << (slot & 31))) !== 0;
}

function setBit(entry: NonceRecord, n: number, value: boolean): void {
  const slot = n % NC_WINDOW;
  const mask = 1 << (slot & 31);
  const updated = value ? word(entry, slot >> 5) | mask : word(entry, slot >> 5) & ~mask;
  switch (slot >> 5) {
    case 0:
      entry.w0 = updated;
      break;
    case 1:
      entry.w1 = updated;
      break;
    case 2:
      entry.w2 = updated;
      break;
    default:
      entry.w3 = updated;
  }
}
