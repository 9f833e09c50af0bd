/**
 * Broker registration and heartbeat decisions: pure functions over the image and the broker's
 * in-memory session; the controller proposes the records and keeps the sessions.
 */
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { ControllerError } from './errors.js';
import { fenceBroker } from './partition-ops.js';
import type { BrokerHeartbeatRequest, RegisterBrokerRequest } from './requests.js';
import type { BrokerSession } from './sessions.js';

/** Why a registration is malformed, or null. */
export function checkRegistration(req: RegisterBrokerRequest): ControllerError | null {
  if (!Number.isInteger(req.brokerId) || req.brokerId < 0 || req.brokerId > 0x7fffffff)
    return new ControllerError('INVALID_REQUEST', `bad broker id ${req.brokerId}`);
  const portOk = Number.isInteger(req.port) && req.port >= 1 && req.port <= 65535;
  if (!portOk || req.host.length === 0 || req.host.length > 255)
    return new ControllerError('INVALID_REQUEST', `bad endpoint ${req.host}:${req.port}`);
  if (req.rack !== null && (req.rack.length === 0 || req.rack.length > 255))
    return new ControllerError('INVALID_REQUEST', 'rack must be 1..255 characters');
  return null;
}

/**
 * The records registering a new incarnation: whatever the old one held (leaderships, ISR
 * places) is given up first, then the registration with a higher broker epoch.
 */
export function registrationRecords(
  image: MetadataImage,
  req: RegisterBrokerRequest,
): { records: MetadataRecord[]; brokerEpoch: number } {
  const prev = image.brokers.get(req.brokerId);
  const records: MetadataRecord[] = prev === undefined ? [] : fenceBroker(image, req.brokerId);
  const brokerEpoch = Math.max(prev?.epoch ?? 0, image.offset) + 1;
  records.push({
    type: 'registerBroker',
    brokerId: req.brokerId,
    brokerEpoch,
    host: req.host,
    port: req.port,
    rack: req.rack,
    controller: req.controller,
  });
  return { records, brokerEpoch };
}

export type HeartbeatAction = 'none' | 'unfence' | 'fence' | 'shutdown';

/** What a heartbeat asks of the controller (after its broker epoch was checked). */
export function heartbeatAction(
  image: MetadataImage,
  req: BrokerHeartbeatRequest,
  session: BrokerSession,
): HeartbeatAction {
  const b = image.brokers.get(req.brokerId)!;
  if (req.wantShutdown) return 'shutdown';
  const caughtUp = req.metadataOffset >= Math.max(session.registeredAtOffset, b.epoch - 1);
  if (b.fenced && !req.wantFence && caughtUp) return 'unfence';
  if (!b.fenced && req.wantFence) return 'fence';
  return 'none';
}
