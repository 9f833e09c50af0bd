/** `--controller-listen HOST:PORT` and `--controller-quorum 1@h:p,2@h:p,3@h:p`. */
import { parseQuorumVoters, type QuorumVoter } from '../raft/config.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(value: string, what = '--controller-listen'): HostPort {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : -1;
  if (!m || port < 0 || port > 65535)
    throw new RangeError(`${what}: "${value}" is not HOST:PORT (e.g. 127.0.0.1:9093)`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

export function parseControllerQuorum(value: string): QuorumVoter[] {
  return parseQuorumVoters(value);
}
