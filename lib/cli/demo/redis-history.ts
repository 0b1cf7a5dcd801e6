/**
 * The redis commit history (fixtures/redis-history.jsonl) as Sediment transactions: one per
 * commit, its instant the commit time (clamped so that instants never go backwards), the
 * transaction entity itself the commit (`commit/id`, `commit/time`), and one `file` entity per
 * path, upserted by `file/path`, with its current line count, status and directory. Directories
 * are entities too (`dir/path`, `dir/parent`), so that questions by directory are joins.
 *
 * A pure function of the input: the same lines give the same transactions, so the demo's
 * database is reproducible byte for byte.
 */
import { ErrorCode, SedimentError } from '../../errors.js';

export const REDIS_SCHEMA = [
  { 'db/ident': 'commit/id', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity', 'db/doc': 'The git commit id.' },
  { 'db/ident': 'commit/time', 'db/valueType': 'db.type/instant', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'The committer time as recorded, which can go backwards.' },
  { 'db/ident': 'commit/added', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'Lines added by the commit (text files).' },
  { 'db/ident': 'commit/deleted', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'Lines deleted by the commit (text files).' },
  { 'db/ident': 'file/path', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'file/lines', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true, 'db/doc': 'Current line count; none while the file is deleted, or for a binary file.' },
  { 'db/ident': 'file/status', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'file.status/added, file.status/modified or file.status/deleted, by the last commit that touched it.' },
  { 'db/ident': 'file/binary', 'db/valueType': 'db.type/boolean', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'Whether the last commit that changed the file saw it as binary (no line counts).' },
  { 'db/ident': 'file/dir', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one', 'db/doc': 'The directory holding the file; none for a file at the top.' },
  { 'db/ident': 'dir/path', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'dir/parent', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
] as const;

/** One line of the fixture. */
export interface RedisCommit {
  readonly commit: string;
  readonly time: string;
  readonly changes: readonly (readonly [path: string, added: number | null, deleted: number | null, status: 'A' | 'M' | 'D'])[];
}

export interface CommitTransaction {
  readonly txInstant: Date;
  readonly txData: unknown[];
}

const STATUS = { A: 'file.status/added', M: 'file.status/modified', D: 'file.status/deleted' } as const;

/** Parses one line of the fixture, checking its shape; `line` is 1-based, for the error. */
export function parseRedisCommit(text: string, line: number): RedisCommit {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SedimentError(ErrorCode.invalidArgument, `redis history line ${line}: not JSON: ${(error as Error).message}`);
  }
  const c = raw as Partial<RedisCommit> | null;
  const valid =
    c !== null &&
    typeof c === 'object' &&
    typeof c.commit === 'string' &&
    typeof c.time === 'string' &&
    !Number.isNaN(Date.parse(c.time)) &&
    Array.isArray(c.changes) &&
    c.changes.every(
      (ch) =>
        Array.isArray(ch) &&
        ch.length === 4 &&
        typeof ch[0] === 'string' &&
        (ch[1] === null || Number.isSafeInteger(ch[1])) &&
        (ch[2] === null || Number.isSafeInteger(ch[2])) &&
        (ch[3] === 'A' || ch[3] === 'M' || ch[3] === 'D'),
    );
  if (!valid) throw new SedimentError(ErrorCode.invalidArgument, `redis history line ${line}: not a commit {commit, time, changes: [[path, added, deleted, A|M|D]...]}`);
  return c as RedisCommit;
}

/**
 * Turns commits into transactions, in order. It keeps what it needs between commits: each
 * path's line count, the directories already made, and the last instant.
 */
export class RedisHistoryConverter {
  private readonly lines = new Map<string, number>();
  /** Directories made by earlier transactions, and by the one being built. */
  private readonly dirs = new Set<string>();
  private readonly newDirs = new Set<string>();
  private lastInstant = -Infinity;

  /** The schema, as the transaction before the first commit's, at that commit's instant. */
  static schema(first: RedisCommit): CommitTransaction {
    return { txInstant: new Date(Date.parse(first.time)), txData: [...REDIS_SCHEMA] };
  }

  transaction(c: RedisCommit): CommitTransaction {
    const time = Date.parse(c.time);
    this.lastInstant = Math.max(this.lastInstant, time);
    let added = 0;
    let deleted = 0;
    const txData: unknown[] = [];
    for (const [path, plus, minus, status] of c.changes) {
      added += plus ?? 0;
      deleted += minus ?? 0;
      const file: Record<string, unknown> = { 'file/path': path, 'file/status': STATUS[status] };
      const dir = directoryOf(path);
      if (dir !== undefined) file['file/dir'] = this.directory(dir, txData);
      const text = plus !== null && minus !== null;
      if (status !== 'D') file['file/binary'] = !text;
      if (status === 'D' || !text) {
        // Deleted, or binary: no line count, whatever it had before.
        txData.push(file);
        if (this.lines.delete(path)) txData.push(['db/retract', ['file/path', path], 'file/lines']);
        continue;
      }
      const count = (status === 'A' ? 0 : (this.lines.get(path) ?? 0)) + plus - minus;
      this.lines.set(path, count);
      file['file/lines'] = count;
      txData.push(file);
    }
    txData.push({ 'db/id': 'datomic.tx', 'commit/id': c.commit, 'commit/time': new Date(time), 'commit/added': added, 'commit/deleted': deleted });
    for (const dir of this.newDirs) this.dirs.add(dir);
    this.newDirs.clear();
    return { txInstant: new Date(this.lastInstant), txData };
  }

  /** A reference to directory `path`: a lookup ref once it exists, else a new entity (with its parents). */
  private directory(path: string, txData: unknown[]): unknown {
    if (this.dirs.has(path)) return ['dir/path', path];
    if (this.newDirs.has(path)) return `dir:${path}`;
    this.newDirs.add(path);
    const dir: Record<string, unknown> = { 'db/id': `dir:${path}`, 'dir/path': path };
    const parent = directoryOf(path);
    if (parent !== undefined) dir['dir/parent'] = this.directory(parent, txData);
    txData.push(dir);
    return `dir:${path}`;
  }
}

/** The directory of a path (`src/ae.c` → `src`), or undefined at the top. */
export function directoryOf(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? undefined : path.slice(0, slash);
}
