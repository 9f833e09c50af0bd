/**
 * Leader election (Raft §5.2, §5.4.1) with pre-vote and leader stickiness (thesis §9.6, §4.2.3).
 *
 * A voter that hears from no leader for a randomized election timeout ([base, 2×base)) first
 * asks for pre-votes: "would you vote for me in term+1?" — nobody changes state for that. Only
 * with a quorum of pre-votes does it bump its term, vote for itself (persisted before anything
 * is sent) and ask for real votes. A node grants a vote once per term, only to a candidate whose
 * log is at least as up to date as its own (last term, then last index). A node that heard from
 * a live leader within the election timeout refuses pre-votes and ignores vote requests for
 * higher terms, so a node returning from a partition cannot depose a healthy leader.
 * Learners never campaign; while they hear from no leader they send LearnerJoin to a voter.
 * A follower whose connection to its leader closes (RaftNode.peerLost) drops the lease and
 * campaigns early instead, the voters taking turns by id (soon()).
 */
import type { RaftContext } from './context.js';
import type { VoteRequest, VoteResponse } from './messages.js';
import { Deadline } from './timer.js';
import type { NodeId } from './types.js';

export class Election {
  private readonly deadline: Deadline;
  private readonly granted = new Set<NodeId>();
  /** The term the current tally is for (the pre-vote's future term, or the candidate's term). */
  private tallyTerm = 0;

  constructor(private readonly ctx: RaftContext) {
    this.deadline = new Deadline(ctx.clock, () => this.onTimeout());
  }

  /** (Re)starts the election timer with a fresh random timeout. */
  resetTimer(): void {
    const base = this.ctx.config.electionTimeoutMs;
    this.deadline.after(base + this.ctx.random.int(base));
  }

  /**
   * Brings the timer forward: the connection to `leader` closed. The voters that saw it all
   * campaign early, so they take turns to keep from splitting the vote (a split waits out a full
   * timeout): T/10 + this node's rank among the other voters (by id) × T/5, + up to T/20 of
   * jitter, capped at T. The first one's pre-vote reaches the next one before its turn; if the
   * first one's log is behind, it is refused and the next one wins its turn.
   */
  soon(leader: NodeId): void {
    const base = this.ctx.config.electionTimeoutMs;
    const remaining = this.ctx.membership.voters.filter((v) => v !== leader).sort((a, b) => a - b);
    const rank = Math.max(0, remaining.indexOf(this.ctx.id));
    const delay =
      Math.floor(base / 10) +
      rank * Math.floor(base / 5) +
      this.ctx.random.int(Math.max(1, Math.floor(base / 20)));
    const at = this.ctx.clock.monotonic() + Math.min(base, delay);
    if (at < this.deadline.atMs) this.deadline.set(at);
  }

  stopTimer(): void {
    this.deadline.cancel();
  }

  /** Within the election timeout of hearing from a leader (or being one). */
  inLease(): boolean {
    const s = this.ctx.state;
    if (s.role === 'leader') return true;
    return (
      s.leaderId !== null &&
      this.ctx.clock.monotonic() - s.lastLeaderContactMs < this.ctx.config.electionTimeoutMs
    );
  }

  private onTimeout(): void {
    const { state, config, membership } = this.ctx;
    if (state.stopped || state.role === 'leader') return;
    if (state.role === 'learner') {
      const voters = membership.voters;
      this.ctx.host.send(voters[this.ctx.random.int(voters.length)]!, {
        type: 'learnerJoin',
        from: this.ctx.id,
        term: this.ctx.hardState.term,
      });
      this.resetTimer();
      return;
    }
    if (config.preVote) this.startPreVote();
    else this.startElection();
  }

  private startPreVote(): void {
    const { state, log, hardState } = this.ctx;
    state.role = 'preCandidate';
    state.leaderId = null;
    this.granted.clear();
    this.tallyTerm = hardState.term + 1;
    this.resetTimer();
    this.requestVotes(true, this.tallyTerm, log.lastIndex, log.lastTerm);
  }

  startElection(): void {
    const { state, log, hardState } = this.ctx;
    const term = hardState.term + 1;
    hardState.set(term, this.ctx.id);
    state.role = 'candidate';
    state.leaderId = null;
    this.granted.clear();
    this.tallyTerm = term;
    this.resetTimer();
    this.requestVotes(false, term, log.lastIndex, log.lastTerm);
  }

  private requestVotes(preVote: boolean, term: number, lastLogIndex: number, lastLogTerm: number): void {
    const { id, membership, host, durability } = this.ctx;
    for (const v of membership.voters) {
      if (v !== id) host.send(v, { type: 'vote', from: id, term, preVote, lastLogIndex, lastLogTerm });
    }
    // our own vote counts once it is durable (a real vote) — never before the requests go out
    durability.after(() => this.tally(id, preVote, term));
  }

  private logUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    if (this.ctx.config.unsafe.skipVoteLogCheck) return true;
    const { log } = this.ctx;
    return lastLogTerm > log.lastTerm || (lastLogTerm === log.lastTerm && lastLogIndex >= log.lastIndex);
  }

  onVoteRequest(m: VoteRequest): void {
    const { id, state, hardState, host, membership } = this.ctx;
    if (state.role === 'learner' || !membership.isVoter(m.from)) return;
    const reply = (term: number, granted: boolean): void =>
      host.send(m.from, { type: 'voteResponse', from: id, term, preVote: m.preVote, granted });
    if (m.preVote) {
      const grant =
        m.term > hardState.term && !this.inLease() && this.logUpToDate(m.lastLogIndex, m.lastLogTerm);
      reply(grant ? m.term : hardState.term, grant);
      return;
    }
    if (m.term < hardState.term) {
      reply(hardState.term, false);
      return;
    }
    if (m.term > hardState.term) {
      if (this.inLease()) return; // a live leader exists: ignore the disruption
      host.becomeFollower(m.term, null);
    }
    const canVote = hardState.votedFor === null || hardState.votedFor === m.from;
    const grant = canVote && state.role !== 'leader' && this.logUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (grant) {
      hardState.set(m.term, m.from);
      this.resetTimer();
    }
    reply(hardState.term, grant);
  }

  onVoteResponse(m: VoteResponse): void {
    const { hardState, host } = this.ctx;
    if (m.term > hardState.term && !(m.preVote && m.granted)) {
      host.becomeFollower(m.term, null);
      return;
    }
    if (m.granted) this.tally(m.from, m.preVote, m.term);
  }

  private tally(from: NodeId, preVote: boolean, term: number): void {
    const { state, membership, host, hardState } = this.ctx;
    if (state.stopped || term !== this.tallyTerm) return;
    if (preVote ? state.role !== 'preCandidate' : state.role !== 'candidate' || hardState.term !== term)
      return;
    if (!membership.isVoter(from)) return;
    this.granted.add(from);
    if (this.granted.size < membership.quorum) return;
    if (preVote) this.startElection();
    else host.becomeLeader();
  }
}
