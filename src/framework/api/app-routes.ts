/**
 * Marathon's `/v2/apps` paths. App ids contain slashes, so everything under
 * `/v2/apps/` is one route that splits the path itself, the way Marathon's
 * own resource does: a trailing `restart`, `tasks[/<task>]` or
 * `versions[/<version>]` is an action on the app before it (those words are
 * reserved as an app id's last segment).
 */
import express, { type Request, type Response, type Router } from 'express';
import { BadRequestError, NotFoundError } from '../../common/errors.ts';
import { parseJsonBody } from '../app/app-errors.ts';
import { normalizeAppId } from '../app/app-id.ts';
import type { ApiOrigin, AppService, WriteOutcome } from '../app-service.ts';
import type { FrameworkState } from '../state/framework-state.ts';
import { instanceIdOfTask } from '../scheduler/ids.ts';
import type { AppRecord } from '../state/model.ts';
import { endpointsText, wantsPlainText } from './endpoints-text.ts';
import { parseLabelSelector } from './label-selector.ts';
import { appJson, hasTask, parseEmbed, renderAppWithStatus, renderTask, renderVersion, type AppEmbed } from './render.ts';

/** Distinct GET /v2/apps queries whose answers are kept (a few dashboards' worth). */
export const maxCachedListings = 16;

/** Marathon's body limit is 1 MB by default (`--http_max_concurrent_requests` aside). */
export const maxBodyBytes = 1024 * 1024;

export interface ApiContext {
  readonly state: FrameworkState;
  readonly apps: AppService;
  /** A barrier before a read: resolves once this replica may answer (linearizable reads). */
  readonly beforeRead: (req: Request) => Promise<void>;
}

export const textBody = express.text({ type: () => true, limit: maxBodyBytes });

export function bodyOf(req: Request): unknown {
  return parseJsonBody(typeof req.body === 'string' ? req.body : '');
}

export function queryList(req: Request, name: string): string[] {
  const v = req.query[name];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map(String).flatMap((s) => s.split(','));
}

/**
 * A boolean query parameter. Case-insensitive, as Marathon's (Java's
 * `Boolean.valueOf`): Python's `requests` sends `force=True`, and
 * marathon-python's `force=True` must supersede a deployment.
 */
export function flag(req: Request, name: string): boolean {
  const v = req.query[name];
  return typeof v === 'string' && (v.toLowerCase() === 'true' || v === '1' || v === '');
}

/** The client and path of a write, for Marathon's `api_post_event`. */
export function originOf(req: Request): ApiOrigin {
  return { clientIp: req.socket.remoteAddress ?? '', uri: req.originalUrl.split('?')[0] ?? req.path };
}

export function sendWrite(res: Response, status: number, w: WriteOutcome): void {
  res.setHeader('Marathon-Deployment-Id', w.deploymentId);
  res.status(status).json({ version: w.version, deploymentId: w.deploymentId });
}

export function appRoutes(ctx: ApiContext): Router {
  const r = express.Router();
  // Whole answers of GET /v2/apps, keyed by query, valid while the state's generation is unchanged:
  // pollers (dashboards, marathon-lb) get the same bytes without a rebuild.
  const listCache = new Map<string, { generation: number; body: Buffer }>();
  r.get('/v2/apps', async (req, res) => {
    await ctx.beforeRead(req);
    const cacheKey = req.originalUrl;
    const embed = parseEmbed(queryList(req, 'embed'));
    const cached = listCache.get(cacheKey);
    if (cached !== undefined && cached.generation === ctx.state.generation && !embed.taskStats) {
      res.type('application/json').send(cached.body);
      return;
    }
    const generation = ctx.state.generation;
    const idFilter = typeof req.query.id === 'string' ? req.query.id.toLowerCase() : undefined;
    // Both filters are case-insensitive "contains", as Marathon's AppsResource.search.
    const cmdFilter = typeof req.query.cmd === 'string' ? req.query.cmd.toLowerCase() : undefined;
    // Given twice, the first counts (Marathon reads one `label` parameter).
    const label = Array.isArray(req.query.label) ? req.query.label[0] : req.query.label;
    const labelFilter = typeof label === 'string' ? parseLabelSelector(label) : undefined;
    const parts: string[] = [];
    for (const app of ctx.state.apps()) {
      const def = app.current.definition;
      if (idFilter !== undefined && !def.id.includes(idFilter)) continue;
      if (cmdFilter !== undefined && (def.cmd === undefined || !def.cmd.toLowerCase().includes(cmdFilter))) continue;
      if (labelFilter !== undefined && !labelFilter(def.labels)) continue;
      parts.push(appJson(ctx.state, app, embed));
    }
    const body = Buffer.from(`{"apps":[${parts.join(',')}]}`);
    if (listCache.size >= maxCachedListings) listCache.clear();
    // taskStats' life times move with the clock: such a listing is built anew each time.
    if (!embed.taskStats) listCache.set(cacheKey, { generation, body });
    res.type('application/json').send(body);
  });
  r.post('/v2/apps', textBody, async (req, res) => {
    const w = await ctx.apps.create(bodyOf(req), { force: flag(req, 'force'), origin: originOf(req) });
    const app = ctx.state.app(w.app?.definition.id ?? '');
    res.setHeader('Location', `/v2/apps${w.app?.definition.id ?? ''}`);
    res.setHeader('Marathon-Deployment-Id', w.deploymentId);
    res.status(201).json(app === undefined ? {} : renderAppWithStatus(ctx.state, app, parseEmbed(['tasks'])));
  });
  // Several apps at once; PATCH never creates (Marathon's allowCreation = false).
  r.put('/v2/apps', textBody, async (req, res) => {
    sendWrite(res, 200, await ctx.apps.updateMany(bodyOf(req), { force: flag(req, 'force'), partial: req.query.partialUpdate !== 'false', origin: originOf(req) }));
  });
  r.patch('/v2/apps', textBody, async (req, res) => {
    sendWrite(res, 200, await ctx.apps.updateMany(bodyOf(req), { force: flag(req, 'force'), partial: true, allowCreation: false, origin: originOf(req) }));
  });
  r.all('/v2/apps/*path', textBody, async (req, res) => {
    const segments = (req.params as { path: string[] }).path.filter((s) => s !== '');
    await dispatchAppPath(ctx, req, res, segments);
  });
  return r;
}

async function dispatchAppPath(ctx: ApiContext, req: Request, res: Response, segs: string[]): Promise<void> {
  const last = segs[segs.length - 1];
  const beforeLast = segs[segs.length - 2];
  const idOf = (n: number) => normalizeAppId(`/${segs.slice(0, segs.length - n).join('/')}`);
  const force = flag(req, 'force');
  // Marathon's group wildcard: GET /v2/apps/<group>/* ({"*": [apps]}) and /v2/apps/<group>/*/tasks, every app below the group.
  if (req.method === 'GET' && (last === '*' || (beforeLast === '*' && last === 'tasks'))) {
    await ctx.beforeRead(req);
    const apps = appsBelow(ctx, normalizeAppId(`/${segs.slice(0, segs.indexOf('*')).join('/')}`));
    if (last === '*') res.type('application/json').send(`{"*":[${apps.map((a) => appJson(ctx.state, a, showEmbed(req))).join(',')}]}`);
    else res.json({ tasks: apps.flatMap((a) => ctx.state.instancesOf(a.id).filter(hasTask).map((i) => renderTask(ctx.state, i))) });
    return;
  }
  if (last === 'restart' && req.method === 'POST') return sendWrite(res, 200, await ctx.apps.restart(idOf(1), { force }));
  if (last === 'tasks') return appTasks(ctx, req, res, idOf(1));
  if (beforeLast === 'tasks' && req.method === 'DELETE') return killOne(ctx, req, res, idOf(2), last as string);
  if (last === 'versions' && req.method === 'GET') {
    await ctx.beforeRead(req);
    const app = mustApp(ctx, idOf(1));
    res.json({ versions: app.versions.map((v) => v.version).reverse() });
    return;
  }
  if (beforeLast === 'versions' && req.method === 'GET') {
    await ctx.beforeRead(req);
    const app = mustApp(ctx, idOf(2));
    const v = app.versions.find((x) => x.version === last);
    if (v === undefined) throw new NotFoundError(`App '${app.id}' does not exist in version ${last}`);
    res.json(renderVersion(v));
    return;
  }
  const id = idOf(0);
  switch (req.method) {
    case 'GET': {
      await ctx.beforeRead(req);
      const app = mustApp(ctx, id);
      res.json({ app: renderAppWithStatus(ctx.state, app, showEmbed(req)) });
      return;
    }
    case 'PUT': {
      // Marathon's PUT creates a missing app, and then answers 201 Created (200 when it updated one).
      const existed = ctx.state.app(id) !== undefined;
      const w = await ctx.apps.update(id, bodyOf(req), { force, partial: req.query.partialUpdate !== 'false', origin: originOf(req) });
      if (!existed) res.setHeader('Location', `/v2/apps${w.app?.definition.id ?? id}`);
      return sendWrite(res, existed ? 200 : 201, w);
    }
    case 'PATCH':
      // Marathon's PATCH never creates (allowCreation = false): a missing app is a 404, not a 422 for its missing cmd.
      mustApp(ctx, id);
      return sendWrite(res, 200, await ctx.apps.update(id, bodyOf(req), { force, partial: true, origin: originOf(req) }));
    case 'DELETE':
      // Marathon's DELETE /v2/apps/{id} is forced unless told otherwise (@DefaultValue("true")): a delete supersedes a running deployment.
      return sendWrite(res, 200, await ctx.apps.remove(id, { force: req.query.force === undefined ? true : force }));
    default:
      res.status(405).setHeader('Allow', 'GET, PUT, PATCH, DELETE').json({ message: `Method ${req.method} not allowed on ${req.path}` });
  }
}

/**
 * A kill's `scale`, refusing `wipe` with it as Marathon does (400). `wipe`
 * alone (forget a resident task's reservation) is an ordinary kill here:
 * cygnet has no resident tasks.
 */
export function scaleNotWipe(req: Request): boolean {
  const scale = flag(req, 'scale');
  if (scale && flag(req, 'wipe')) throw new BadRequestError('You cannot use scale and wipe at the same time.');
  return scale;
}

async function appTasks(ctx: ApiContext, req: Request, res: Response, id: string): Promise<void> {
  if (req.method === 'GET') {
    await ctx.beforeRead(req);
    const app = mustApp(ctx, id);
    if (wantsPlainText(req)) {
      res.type('text/plain').send(endpointsText(ctx.state, [app]));
      return;
    }
    res.json({ tasks: ctx.state.instancesOf(id).filter(hasTask).map((i) => renderTask(ctx.state, i)) });
    return;
  }
  if (req.method !== 'DELETE') {
    res.status(405).setHeader('Allow', 'GET, DELETE').json({ message: `Method ${req.method} not allowed on ${req.path}` });
    return;
  }
  mustApp(ctx, id);
  const host = typeof req.query.host === 'string' ? req.query.host : undefined;
  const victims = ctx.state.instancesOf(id).filter((i) => hasTask(i) && (host === undefined || host === '*' || i.hostname === host));
  const rendered = victims.map((i) => renderTask(ctx.state, i));
  const out = await ctx.apps.killTasks(victims.map((i) => i.taskId ?? ''), { scale: scaleNotWipe(req), force: flag(req, 'force'), appId: id });
  if (out.deployment !== undefined) return sendWrite(res, 200, out.deployment);
  res.json({ tasks: rendered });
}

async function killOne(ctx: ApiContext, req: Request, res: Response, id: string, taskId: string): Promise<void> {
  mustApp(ctx, id);
  // As Marathon's AppTasksResource: the task id names an instance, whose current task is killed, so an
  // id from an earlier run of the same instance still finds it.
  const instanceId = instanceIdOfTask(taskId);
  const inst = ctx.state.instanceOfTask(taskId) ?? (instanceId === undefined ? undefined : ctx.state.instance(instanceId));
  if (inst === undefined || inst.appId !== id || !hasTask(inst)) throw new NotFoundError(`Task '${taskId}' does not exist`);
  const rendered = renderTask(ctx.state, inst);
  const out = await ctx.apps.killTasks([inst.taskId as string], { scale: scaleNotWipe(req), force: flag(req, 'force'), appId: id });
  if (out.deployment !== undefined) return sendWrite(res, 200, out.deployment);
  res.json({ task: rendered });
}

/** What one app's GET embeds: what the query asks, and its tasks and last failure always (Marathon's show). */
function showEmbed(req: Request): AppEmbed {
  return { ...parseEmbed(queryList(req, 'embed')), tasks: true, lastTaskFailure: true };
}

/** The apps inside group `groupId` and its subgroups, by id (none for an empty group); 404 when there is no such group. */
export function appsBelow(ctx: ApiContext, groupId: string): AppRecord[] {
  if (!ctx.state.isGroup(groupId)) throw new NotFoundError(`Group '${groupId}' does not exist`);
  const prefix = groupId === '/' ? '/' : `${groupId}/`;
  return [...ctx.state.apps()].filter((a) => a.id.startsWith(prefix)).sort((a, b) => a.id.localeCompare(b.id));
}

function mustApp(ctx: ApiContext, id: string) {
  const app = ctx.state.app(id);
  if (app === undefined) throw new NotFoundError(`App '${id}' does not exist`);
  return app;
}

