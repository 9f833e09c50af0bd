/**
 * Producer id blocks (AllocateProducerIds): the active controller hands a broker the next
 * `PRODUCER_ID_BLOCK_SIZE` ids by committing a ProducerIdsRecord that moves the cluster's high
 * mark past them. The mark is in the metadata log and in every snapshot, so a block is never
 * handed out twice — not after a controller failover, not after a restore from a snapshot.
 */
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { ControllerError } from './errors.js';
import type { AllocateProducerIdsRequest, AllocateProducerIdsResponse } from './requests.js';

export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** The highest first id of a block: every id stays a safe integer (Kafka's are int64). */
const MAX_FIRST_ID = Number.MAX_SAFE_INTEGER - PRODUCER_ID_BLOCK_SIZE;

export function allocateProducerIds(
  image: MetadataImage,
  req: AllocateProducerIdsRequest,
): { records: MetadataRecord[]; response: AllocateProducerIdsResponse } {
  const b = image.brokers.get(req.brokerId);
  if (b === undefined)
    throw new ControllerError('BROKER_ID_NOT_REGISTERED', `broker ${req.brokerId} is not registered`);
  if (b.epoch !== req.brokerEpoch)
    throw new ControllerError('STALE_BROKER_EPOCH', `broker epoch ${req.brokerEpoch} is not ${b.epoch}`);
  const floor = req.minProducerId ?? 0;
  if (!Number.isSafeInteger(floor) || floor < 0 || floor > MAX_FIRST_ID)
    throw new ControllerError('INVALID_REQUEST', `bad minProducerId ${String(req.minProducerId)}`);
  const first = Math.max(image.nextProducerId, floor);
  if (first > MAX_FIRST_ID)
    throw new ControllerError('UNKNOWN_SERVER_ERROR', 'the producer id space is exhausted');
  const next = first + PRODUCER_ID_BLOCK_SIZE;
  return {
    records: [
      { type: 'producerIds', brokerId: req.brokerId, brokerEpoch: req.brokerEpoch, nextProducerId: next },
    ],
    response: { firstProducerId: first, size: PRODUCER_ID_BLOCK_SIZE },
  };
}
