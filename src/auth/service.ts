// Dashboard sessions: people log in with e-mail and password and get a session (an HttpOnly
// cookie holding a random token, stored as its SHA-256) plus a CSRF token that every change must
// echo in a header. Failed logins are counted per e-mail address and per client address; past a
// threshold each further try waits twice as long as the last (up to 15 minutes), on every node.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Db, DbOrTrx } from '../storage/database.js';
import { AppError } from '../errors.js';
import type { Actor } from '../domain/actor.js';
import { isRole, permissionsOf, type Role } from '../domain/permissions.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import { randomBase62 } from '../domain/token.js';

export const SESSION_COOKIE = 'kw_session';
/** Consecutive failures allowed before the waiting starts (per e-mail address / per client address). */
export const FREE_FAILURES = { email: 5, ip: 20 } as const;
const MAX_LOCK_MS = 15 * 60_000;
/** Failures older than this are forgotten. */
const FAILURE_MEMORY_MS = 24 * 60 * 60_000;

export interface SessionView {
  account: { id: string; email: string; name: string; role: Role };
  workspace: { id: string; name: string };
  permissions: string[];
  csrfToken: string;
  expiresAt: string;
}

export interface LoginResult {
  /** The cookie's value; shown only here. */
  token: string;
  session: SessionView;
  maxAgeSeconds: number;
}

export interface SessionAuth {
  actor: Actor;
  csrfToken: string;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Verified against when no account matches, so an unknown e-mail takes as long as a wrong password. */
let dummyHash: Promise<string> | null = null;

export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly options: { ttlMs: number; clock: () => number },
  ) {}

  async login(email: string, password: string, client: { ip: string | null; userAgent: string | null }): Promise<LoginResult> {
    const now = this.options.clock();
    const address = email.trim().toLowerCase();
    const subjects = [`email:${address}`, ...(client.ip === null ? [] : [`ip:${client.ip}`])];
    await refuseIfLocked(this.db, subjects, now);

    const candidates = await this.db
      .selectFrom('accounts')
      .select(['id', 'workspace_id', 'password_hash'])
      .where('email', '=', address)
      .where('password_hash', 'is not', null)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    let matched: (typeof candidates)[number] | undefined;
    if (candidates.length === 0) {
      dummyHash ??= hashPassword(randomBase62(20));
      await verifyPassword(password, await dummyHash);
    }
    // The same address may own accounts in several workspaces: the first whose password matches.
    for (const candidate of candidates) {
      if (await verifyPassword(password, candidate.password_hash!)) {
        matched = candidate;
        break;
      }
    }
    if (matched === undefined) {
      await recordPasswordFailure(this.db, subjects, now);
      throw new AppError('invalidCredentialsError', 401, 'Wrong e-mail address or password');
    }
    await this.db.deleteFrom('login_failures').where('subject', '=', subjects[0]!).execute();

    const token = randomBase62(43); // ≈ 256 bits
    const csrfToken = randomBase62(32);
    const expiresAt = now + this.options.ttlMs;
    await this.db
      .insertInto('sessions')
      .values({
        id: sha256(token),
        account_id: matched.id,
        workspace_id: matched.workspace_id,
        csrf_token: csrfToken,
        created_at: now,
        expires_at: expiresAt,
        ip: client.ip,
        user_agent: client.userAgent?.slice(0, 512) ?? null,
      })
      .execute();
    const session = await this.view(sha256(token), now);
    return { token, session: session!, maxAgeSeconds: Math.floor(this.options.ttlMs / 1000) };
  }

  /** The session of a cookie token, or null when it is unknown, expired or its account is gone. */
  async find(token: string): Promise<SessionView | null> {
    return this.view(sha256(token), this.options.clock());
  }

  /** The caller behind a session cookie, with the role its account has now. */
  async authenticate(token: string, ip: string | null): Promise<SessionAuth | null> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .select(['s.id as sessionId', 's.workspace_id', 's.csrf_token', 'a.id as accountId', 'a.role'])
      .where('s.id', '=', sha256(token))
      .where('s.expires_at', '>', this.options.clock())
      .executeTakeFirst();
    if (row === undefined || !isRole(row.role)) return null;
    return {
      actor: {
        workspaceId: row.workspace_id,
        accountId: row.accountId,
        role: row.role,
        permissions: permissionsOf(row.role),
        credentialType: 'session',
        credentialKeyId: null,
        ip,
      },
      csrfToken: row.csrf_token,
    };
  }

  async logout(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', sha256(token)).execute();
  }

  /** Ends every session of an account (its password changed). */
  static async endSessionsOf(db: DbOrTrx, accountId: string): Promise<void> {
    await db.deleteFrom('sessions').where('account_id', '=', accountId).execute();
  }

  /** Deletes expired sessions and forgotten failure counters (housekeeping). */
  async prune(): Promise<void> {
    const now = this.options.clock();
    await this.db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('login_failures').where('last_failure_at', '<', now - FAILURE_MEMORY_MS).execute();
  }

  private async view(sessionId: string, now: number): Promise<SessionView | null> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('accounts as a', 'a.id', 's.account_id')
      .innerJoin('workspaces as w', 'w.id', 's.workspace_id')
      .select(['s.csrf_token', 's.expires_at', 'a.id as accountId', 'a.email', 'a.name', 'a.role', 'w.id as workspaceId', 'w.name as workspaceName'])
      .where('s.id', '=', sessionId)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (row === undefined || !isRole(row.role)) return null;
    return {
      account: { id: row.accountId, email: row.email, name: row.name, role: row.role },
      workspace: { id: row.workspaceId, name: row.workspaceName },
      permissions: [...permissionsOf(row.role)],
      csrfToken: row.csrf_token,
      expiresAt: new Date(row.expires_at).toISOString(),
    };
  }
}

/** 429 while any of the subjects (`email:<address>`, `ip:<address>`) waits after failed password checks. */
export async function refuseIfLocked(db: DbOrTrx, subjects: string[], now: number): Promise<void> {
  const rows = await db.selectFrom('login_failures').select(['locked_until']).where('subject', 'in', subjects).execute();
  const lockedUntil = Math.max(0, ...rows.map((row) => row.locked_until));
  if (lockedUntil > now) {
    const seconds = Math.ceil((lockedUntil - now) / 1000);
    throw new AppError('tooManyLoginAttemptsError', 429, `Too many failed password attempts; try again in ${seconds} s`, undefined, { 'retry-after': String(seconds) });
  }
}

/** Counts a failed password check against each subject and sets its wait. */
export async function recordPasswordFailure(db: DbOrTrx, subjects: string[], now: number): Promise<void> {
  for (const subject of subjects) {
    const free = subject.startsWith('email:') ? FREE_FAILURES.email : FREE_FAILURES.ip;
    // One atomic upsert per subject: concurrent failures on several nodes all count.
    const row = await db
      .insertInto('login_failures')
      .values({ subject, failures: 1, last_failure_at: now, locked_until: 0 })
      .onConflict((c) =>
        c.column('subject').doUpdateSet((eb) => ({
          failures: eb.case().when('login_failures.last_failure_at', '<', now - FAILURE_MEMORY_MS).then(1).else(eb('login_failures.failures', '+', 1)).end(),
          last_failure_at: now,
        })),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    const lockMs = lockAfter(row.failures, free);
    if (lockMs > 0) await db.updateTable('login_failures').set({ locked_until: now + lockMs }).where('subject', '=', subject).execute();
  }
}

/** How long to wait after `failures` consecutive failures: nothing for the free ones, then 1 s, 2 s, 4 s … up to 15 min. */
export function lockAfter(failures: number, free: number): number {
  if (failures < free) return 0;
  return Math.min(MAX_LOCK_MS, 1000 * 2 ** Math.min(30, failures - free));
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
