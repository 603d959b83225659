/**
 * Schema migrations for the SQLite databases (server and console cache),
 * written against the few methods of better-sqlite3 they need so that this
 * package stays free of I/O libraries.
 */
export interface MigratableDatabase {
  pragma(source: string, options?: { simple: boolean }): unknown;
  exec(sql: string): unknown;
  transaction(fn: () => void): () => void;
}

export class NewerDatabaseError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
    what = 'database',
  ) {
    super(`The ${what} is at schema version ${found}, but this version of Roomlink only knows versions up to ${supported}. Use a newer Roomlink, or restore a backup made by this version.`);
  }
}

/**
 * Brings a database to the newest schema: migration N takes version N-1 to N
 * (`PRAGMA user_version`), all pending ones in one transaction, or none.
 */
export function migrate(db: MigratableDatabase, migrations: readonly string[], what?: string): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) throw new NewerDatabaseError(current, migrations.length, what);
  if (current === migrations.length) return current;
  db.transaction(() => {
    for (let version = current + 1; version <= migrations.length; version += 1) db.exec(migrations[version - 1]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return migrations.length;
}
