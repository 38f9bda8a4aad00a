/**
 * Replica membership (cygnet's extension, its own paths):
 *   GET    /v1/cluster                 this replica's Raft view: role, term, leader, voters, learners;
 *                                     and whether it reaches the master (a leader that does not hands over to one that does)
 *   POST   /v1/cluster/members         {"id": 4, "address": "host:raftPort", "role": "learner"|"voter"}
 *   DELETE /v1/cluster/members/{id}
 * The safe way to add a replica: start it with `--join`, add it as a learner,
 * wait until it has caught up (its `applied` near the leader's), then POST it
 * again as a voter. One change at a time (409 while one is in progress).
 * Writes reach the leader (forward-to-leader.ts).
 */
import express, { type Router } from 'express';
import { ValidationError } from '../../common/errors.ts';
import type { FrameworkNode } from '../framework-node.ts';
import { bodyOf, textBody } from './app-routes.ts';
import { leaderApiOf } from './info-routes.ts';

export function membershipRoutes(node: FrameworkNode): Router {
  const r = express.Router();
  r.get('/v1/cluster', (_req, res) => {
    const s = node.raftNode.status();
    res.json({
      id: s.id, role: s.role, term: s.term, leader: s.leader, leaderApi: leaderApiOf(node) ?? null,
      voters: s.conf.voters, learners: s.conf.learners, commit: s.commit, applied: s.applied,
      actingLeader: node.isActingLeader,
      reconciled: node.isActingLeader && node.scheduler.isReconciled,
      masterReachable: node.masterReachable,
    });
  });
  r.post('/v1/cluster/members', textBody, async (req, res) => {
    const body = bodyOf(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('', 'a JSON object {"id", "address", "role"}');
    const { id, address, role } = body as { id?: unknown; address?: unknown; role?: unknown };
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) throw new ValidationError('id', 'an integer ≥ 1', JSON.stringify(id));
    if (typeof address !== 'string' || !/^[^:\s]+:\d{1,5}$/.test(address)) throw new ValidationError('address', 'the new replica\'s Raft host:port', JSON.stringify(address));
    const r = role ?? 'learner';
    if (r !== 'learner' && r !== 'voter') throw new ValidationError('role', '"learner" or "voter"', JSON.stringify(role));
    const raft = node.raftNode;
    await (r === 'learner' ? raft.addLearner(id, address) : raft.addVoter(id, address));
    const s = raft.status();
    res.json({ voters: s.conf.voters, learners: s.conf.learners });
  });
  r.delete('/v1/cluster/members/:id', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || id < 1) throw new ValidationError('id', 'an integer ≥ 1', JSON.stringify(req.params.id));
    const raft = node.raftNode;
    await raft.removeNode(id);
    const s = raft.status();
    res.json({ voters: s.conf.voters, learners: s.conf.learners });
  });
  return r;
}
