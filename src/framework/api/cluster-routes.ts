/**
 * Marathon's cluster-wide paths: `/v2/tasks`, `/v2/tasks/delete`,
 * `/v2/deployments`, `/v2/queue`; and cygnet's canary extension under
 * `/v1/apps/<id>/canary[/promote|/abort]` (its own path, so a strict
 * Marathon client never meets it).
 */
import express, { type Router } from 'express';
import { BadRequestError, ValidationError } from '../../common/errors.ts';
import { normalizeAppId } from '../app/app-id.ts';
import { renderApp } from '../app/render-app.ts';
import type { FrameworkScheduler } from '../scheduler/framework-scheduler.ts';
import { renderDeployments } from '../state/render-deployment.ts';
import { bodyOf, flag, queryList, scaleNotWipe, sendWrite, textBody, type ApiContext } from './app-routes.ts';
import { endpointsText, wantsPlainText } from './endpoints-text.ts';
import { hasTask, renderTask } from './render.ts';

/** Marathon's `status` filter of GET /v2/tasks: these two, in any case; other values are ignored (TasksResource.toTaskState). */
const taskStatusFilter: Record<string, string> = {
  running: 'TASK_RUNNING',
  staging: 'TASK_STAGING',
};

export function clusterRoutes(ctx: ApiContext, scheduler: () => FrameworkScheduler | undefined): Router {
  const r = express.Router();
  r.get('/v2/tasks', async (req, res) => {
    await ctx.beforeRead(req);
    if (wantsPlainText(req)) {
      res.type('text/plain').send(endpointsText(ctx.state, [...ctx.state.apps()].sort((a, b) => a.id.localeCompare(b.id))));
      return;
    }
    // `status` or `status[]`, as Marathon reads both.
    const wanted = [...queryList(req, 'status'), ...queryList(req, 'status[]')].flatMap((s) => taskStatusFilter[s.toLowerCase()] ?? []);
    const tasks = [];
    for (const i of ctx.state.allInstances()) {
      if (!hasTask(i)) continue;
      if (wanted.length > 0 && !wanted.includes(i.mesosState ?? '')) continue;
      tasks.push(renderTask(ctx.state, i));
    }
    res.json({ tasks });
  });
  r.post('/v2/tasks/delete', textBody, async (req, res) => {
    const body = bodyOf(req);
    const ids = typeof body === 'object' && body !== null && 'ids' in body ? body.ids : undefined;
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new ValidationError('ids', 'an array of task id strings', JSON.stringify(ids)?.slice(0, 100));
    // Marathon parses every id first (its most general form: a run spec id, '.' or '_', a last segment) and refuses the call on one that does not parse.
    const malformed = (ids as string[]).find((id) => !/^.+[._][^_.]+$/.test(id));
    if (malformed !== undefined) throw new BadRequestError(`Invalid task id '${malformed}'. [taskId ${malformed} no valid identifier]`);
    // Without scale Marathon answers the tasks it killed, as they were: rendered before the kill changes them.
    const before = new Map<string, unknown>();
    for (const id of ids as string[]) {
      const inst = ctx.state.instanceOfTask(id);
      if (inst !== undefined && inst.taskId === id && hasTask(inst)) before.set(id, renderTask(ctx.state, inst));
    }
    const out = await ctx.apps.killTasks(ids as string[], { scale: scaleNotWipe(req), force: flag(req, 'force') });
    if (out.deployment !== undefined) return sendWrite(res, 200, out.deployment);
    res.json({ tasks: out.killed.flatMap((id) => (before.has(id) ? [before.get(id)] : [])) });
  });
  r.get('/v2/deployments', async (req, res) => {
    await ctx.beforeRead(req);
    res.json(renderDeployments(ctx.state.deployments(), (batch) => ctx.state.endedOfBatch(batch)));
  });
  r.delete('/v2/deployments/:id', async (req, res) => {
    const w = await ctx.apps.cancelDeployment(req.params.id, { force: flag(req, 'force') });
    if (w === undefined) {
      // Marathon: 202 and no body; the client polls /v2/deployments until it is gone.
      res.status(202).end();
      return;
    }
    sendWrite(res, 200, w);
  });
  r.get('/v2/queue', async (req, res) => {
    await ctx.beforeRead(req);
    const now = Date.now();
    const queue = [];
    for (const app of ctx.state.apps()) {
      const waiting = ctx.state.instancesOf(app.id).filter((i) => i.phase === 'scheduled');
      if (waiting.length === 0) continue;
      const delayUntil = Math.max(0, ...waiting.map((i) => i.notBeforeMs ?? 0));
      const s = scheduler();
      queue.push({
        count: waiting.length,
        delay: { timeLeftSeconds: Math.max(0, Math.ceil((delayUntil - now) / 1000)), overdue: delayUntil <= now },
        since: new Date(Math.min(...waiting.map((i) => i.stagedAtMs ?? now))).toISOString(),
        // No `role` here, though Marathon 1.10 sends one: marathon-python's MarathonQueueItem(**json) takes no such argument and would fail on every queue listing.
        app: renderApp(app.current),
        processedOffersSummary: s?.offerSummaryOf(app.id) ?? emptySummary,
        ...(flag(req, 'embed') || queryList(req, 'embed').includes('lastUnusedOffers') ? { lastUnusedOffers: s?.unplacedOf(app.id) ?? [] } : {}),
      });
    }
    res.json({ queue });
  });
  r.delete('/v2/queue/*path/delay', async (req, res) => {
    await ctx.apps.resetDelay(normalizeAppId(`/${(req.params as { path: string[] }).path.filter((s) => s !== '').join('/')}`));
    res.status(204).end();
  });
  r.post('/v1/apps/*path', textBody, async (req, res) => {
    const segs = (req.params as { path: string[] }).path.filter((s) => s !== '');
    const force = flag(req, 'force');
    const n = segs.length;
    if (segs[n - 1] === 'canary') {
      const body = bodyOf(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('', 'a JSON object {"app": {...}, "instances": k, "weight": w}');
      return sendWrite(res, 200, await ctx.apps.startCanary(normalizeAppId(`/${segs.slice(0, -1).join('/')}`), body as Record<string, unknown>, { force }));
    }
    if (segs[n - 2] === 'canary' && segs[n - 1] === 'promote') return sendWrite(res, 200, await ctx.apps.promoteCanary(normalizeAppId(`/${segs.slice(0, -2).join('/')}`)));
    if (segs[n - 2] === 'canary' && segs[n - 1] === 'abort') return sendWrite(res, 200, await ctx.apps.abortCanary(normalizeAppId(`/${segs.slice(0, -2).join('/')}`)));
    res.status(404).json({ message: `No such endpoint: POST ${req.path}` });
  });
  return r;
}

const emptySummary = {
  processedOffersCount: 0,
  unusedOffersCount: 0,
  rejectSummaryLastOffers: [],
  rejectSummaryLaunchAttempt: [],
};
