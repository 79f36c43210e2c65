/**
 * The ledger of side effects a sandbox applied: every call that changes something at the vendor
 * (a case or enrollment created, a file uploaded, an approval, an SMS sent, a code exchanged) adds
 * one entry, whether its answer reached the caller or was dropped (`dropAfterHandling`). Tests and
 * the fault-injection runs read it (`sandbox.<vendor>.ledger`, `GET /<vendor>/_sandbox/ledger`) to count
 * duplicates instead of guessing them.
 *
 * `key` names the caller's intent where the sandbox can tell it (our reference for a create, the
 * signature id for an approval): two entries of one kind with one key are a duplicated side effect.
 * Entries without a key (a resent SMS: each resend is meant) are counted, never called duplicates.
 * No personal data in entries: ids and references only.
 */
import type { FastifyInstance } from 'fastify';

export interface LedgerEntry {
  at: string;
  kind: string;
  /** The vendor object the effect applied to (case, enrollment, signature, session id). */
  subject: string;
  /** The caller's intent, when known: same kind + key twice = a duplicate. */
  key?: string;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];

  record(kind: string, subject: string, key?: string): void {
    this.entries.push({ at: new Date().toISOString(), kind, subject, ...(key === undefined ? {} : { key }) });
  }

  /** How many entries of `kind` (optionally about one subject or one key). */
  count(kind: string, filter: { subject?: string; key?: string } = {}): number {
    return this.entries.filter(
      (e) =>
        e.kind === kind &&
        (filter.subject === undefined || e.subject === filter.subject) &&
        (filter.key === undefined || e.key === filter.key),
    ).length;
  }

  /** Every kind + key seen more than once, with its subjects: the duplicated side effects. */
  duplicates(): { kind: string; key: string; subjects: string[] }[] {
    const groups = new Map<string, { kind: string; key: string; subjects: string[] }>();
    for (const e of this.entries) {
      if (e.key === undefined) continue;
      const id = `${e.kind}\u0000${e.key}`;
      const g = groups.get(id) ?? { kind: e.kind, key: e.key, subjects: [] };
      g.subjects.push(e.subject);
      groups.set(id, g);
    }
    return [...groups.values()].filter((g) => g.subjects.length > 1);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

/** `GET /_sandbox/ledger` (entries, counts per kind, duplicates) and `DELETE /_sandbox/ledger`. */
export function registerLedger(app: FastifyInstance, ledger: Ledger): void {
  app.get('/_sandbox/ledger', async () => {
    const counts: Record<string, number> = {};
    for (const e of ledger.entries) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    return { entries: ledger.entries, counts, duplicates: ledger.duplicates() };
  });
  app.delete('/_sandbox/ledger', async () => {
    ledger.clear();
    return { entries: [] };
  });
}
