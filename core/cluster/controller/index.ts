/**
 * The quorum controller (active on the Raft leader), the broker-side lifecycle that registers
 * and heartbeats, and the request types of the broker→controller API.
 */
export { type AssignableBroker, assignReplicas, rackAlternatedBrokers } from './assignment.js';
export { BrokerLifecycle, type BrokerLifecycleOptions, type BrokerState } from './broker-lifecycle.js';
export {
  CONTROLLER_CONFIG_KEYS,
  type ControllerConfig,
  type ControllerConfigInput,
  DEFAULT_CONTROLLER_CONFIG,
  resolveControllerConfig,
} from './config.js';
export { type MetadataLog, QuorumController, type QuorumControllerOptions } from './controller.js';
export { ControllerError, type ControllerErrorCode, type ItemError, isControllerError } from './errors.js';
export { electLeader } from './partition-change.js';
export { PRODUCER_ID_BLOCK_SIZE } from './producer-id-ops.js';
export type * from './requests.js';
export { CONTROLLER_APIS } from './requests.js';
export { ControllerRouter, type ControllerRouterOptions } from './router.js';
