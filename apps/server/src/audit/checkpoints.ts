import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * A signed statement that a tenant's audit chain had reached `seq` with
 * `hash` at `at`. Kept twice: in the database, and appended to a file in a
 * directory of its own, which the database's owner cannot rewrite without
 * the key. A chain cut short, emptied or recomputed no longer matches the
 * newest checkpoint in that file.
 */
export const Checkpoint = z.strictObject({
  tenantId: z.string().min(1).max(128),
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string().max(40),
  signature: z.string().max(200),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

export const CHECKPOINT_FILE = 'checkpoints.jsonl';
export const CHECKPOINT_KEY_FILE = 'audit-checkpoint-key.pem';

const payload = (c: Omit<Checkpoint, 'signature'>) => Buffer.from(`roomlink-audit-checkpoint:v2:${c.tenantId}:${c.seq}:${c.hash}:${c.at}`);

export function signCheckpoint(key: KeyObject, c: Omit<Checkpoint, 'signature'>): Checkpoint {
  return { ...c, signature: sign(null, payload(c), key).toString('base64url') };
}

export function checkpointSigned(key: KeyObject, c: Checkpoint): boolean {
  return verify(null, payload(c), key, Buffer.from(c.signature, 'base64url'));
}

/** The dedicated Ed25519 key that signs checkpoints (and purge records): made once per data directory, 0600. */
export function loadCheckpointKey(dataDir: string): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = join(dataDir, CHECKPOINT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  }
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** What a checkpoint file holds: the checkpoints, and the lines that are not one (a damaged or edited file). */
export interface CheckpointFileContent {
  checkpoints: Checkpoint[];
  badLines: number[];
}

/**
 * The append-only checkpoint file: one JSON line per checkpoint, written
 * with O_APPEND and flushed to disk before the write returns, mode 0600 in a
 * 0700 directory whatever the umask or the directory's earlier mode.
 */
export class CheckpointFile {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
  }

  /** The appends so far, one after another: lines stay in the order they were asked for. */
  private written: Promise<void> = Promise.resolve();

  /**
   * Appends on libuv's threads, not the event loop: a synchronous fsync
   * behind the database's own writes held a node holding 10,000 agents for
   * up to 17 ms every five seconds (a CPU profile during the cluster bench).
   */
  append(checkpoint: Checkpoint): Promise<void> {
    const line = `${JSON.stringify(checkpoint)}\n`;
    const write = this.written.then(async () => {
      const file = await open(this.path, 'a', 0o600);
      try {
        await file.write(line);
        await file.sync();
      } finally {
        await file.close();
      }
      await chmod(this.path, 0o600);
    });
    this.written = write.catch(() => undefined);
    return write;
  }

  read(): CheckpointFileContent {
    return readCheckpointFile(this.path);
  }
}

export function readCheckpointFile(path: string): CheckpointFileContent {
  const content: CheckpointFileContent = { checkpoints: [], badLines: [] };
  if (!existsSync(path)) return content;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line === '') return;
      try {
        content.checkpoints.push(Checkpoint.parse(JSON.parse(line)));
      } catch {
        content.badLines.push(index + 1);
      }
    });
  return content;
}
