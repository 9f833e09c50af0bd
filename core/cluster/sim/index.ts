/** The deterministic simulator for the metadata quorum (and, next, partition replication). */
export { Checker, SimViolation } from './checker.js';
export { DigestStateMachine } from './digest-state-machine.js';
export { FaultInjector } from './faults.js';
export { describeScenario, randomScenario, type Scenario } from './scenario.js';
export { NodeClock, SimClock } from './sim-clock.js';
export { drainMicrotasks, SimCluster, type SimClusterOptions, type SimNode } from './sim-cluster.js';
export { DEFAULT_SIM_DISK, SimDisk, type SimDiskOptions } from './sim-disk.js';
export {
  type NetworkOptions,
  QUIET_NETWORK,
  raftWireCodec,
  type SimEndpoint,
  SimNetwork,
  type WireCodec,
} from './sim-network.js';
export { runSimulation, type SimulationOptions, type SimulationResult } from './simulation.js';
export { Trace } from './trace.js';
export { Workload } from './workload.js';
