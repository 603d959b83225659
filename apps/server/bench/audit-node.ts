import { createPrivateKey, createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog } from '../src/audit/log';
import { openStore } from '../src/store/engine';

/** What the store bench gives each node it starts. */
export interface AuditNodeData {
  url: string;
  node: number;
  callers: number;
  perCaller: number;
  checkpointFile: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/**
 * One server node's audit log in a process of its own, as a node is: opens
 * its store, says it is ready, and on "go" has `callers` callers each append
 * `perCaller` records one after another, and says "done" once they are all
 * in the chain. Started by the store bench with
 * its data as the one argument, and an IPC channel.
 */
const data = JSON.parse(process.argv[2]!) as AuditNodeData;
const store = await openStore({ engine: 'postgres', url: data.url });
const log = await AuditLog.open(store, { privateKey: createPrivateKey(data.privateKeyPem), publicKey: createPublicKey(data.publicKeyPem) }, new CheckpointFile(data.checkpointFile), () => new Date());
process.send!('ready');
await once(process, 'message');
await Promise.all(
  Array.from({ length: data.callers }, async (_, caller) => {
    for (let n = 0; n < data.perCaller; n += 1) await log.record({ tenantId: 'contoso', type: 'session.refused', actorId: `u-${data.node}-${caller}`, data: { node: data.node, caller, n, code: 'room_busy' } });
  }),
);
// Done once every record is in the chain: closing chains whatever is still pending.
await log.close();
process.send!('done');
await store.close();
process.disconnect();
