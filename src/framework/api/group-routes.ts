/**
 * Marathon's `/v2/groups`, read-only: the tree of groups that app ids imply
 * (`/shop/web` lives in group `/shop`), each with its apps as `/v2/apps`
 * renders them. Clients list apps through groups (marathon-python's
 * `list_groups`, marathon-node's `groups.get`). Groups have no definition of
 * their own in cygnet, so writes answer 405 naming `/v2/apps` instead.
 */
import express, { type Request, type Response, type Router } from 'express';
import { NotFoundError } from '../../common/errors.ts';
import { normalizeAppId } from '../app/app-id.ts';
import type { AppRecord } from '../state/model.ts';
import type { ApiContext } from './app-routes.ts';
import { parseEmbed, renderAppWithStatus, type Json } from './render.ts';

interface GroupNode { id: string; apps: AppRecord[]; groups: Map<string, GroupNode> }

function parentOf(id: string): string {
  const at = id.lastIndexOf('/');
  return at <= 0 ? '/' : id.slice(0, at);
}

function buildTree(apps: Iterable<AppRecord>): Map<string, GroupNode> {
  const nodes = new Map<string, GroupNode>([['/', { id: '/', apps: [], groups: new Map() }]]);
  const nodeOf = (id: string): GroupNode => {
    let n = nodes.get(id);
    if (n === undefined) {
      n = { id, apps: [], groups: new Map() };
      nodes.set(id, n);
      nodeOf(parentOf(id)).groups.set(id, n);
    }
    return n;
  };
  for (const app of apps) nodeOf(parentOf(app.id)).apps.push(app);
  return nodes;
}

export function groupRoutes(ctx: ApiContext): Router {
  const r = express.Router();
  const render = (n: GroupNode, req: Request): Json => {
    const embed = parseEmbed([], 'apps');
    let version = '';
    for (const a of n.apps) if (a.current.version > version) version = a.current.version;
    const groups = [...n.groups.values()].sort((a, b) => a.id.localeCompare(b.id)).map((g) => render(g, req));
    for (const g of groups) if (typeof g.version === 'string' && g.version > version) version = g.version;
    return {
      id: n.id,
      apps: n.apps.sort((a, b) => a.id.localeCompare(b.id)).map((a) => renderAppWithStatus(ctx.state, a, embed)),
      groups,
      pods: [],
      dependencies: [],
      ...(version !== '' ? { version } : {}),
    };
  };
  const serve = async (req: Request, res: Response, id: string) => {
    await ctx.beforeRead(req);
    const node = buildTree(ctx.state.apps()).get(id);
    if (node === undefined) throw new NotFoundError(`Group '${id}' does not exist`);
    res.json(render(node, req));
  };
  r.get('/v2/groups', (req, res) => serve(req, res, '/'));
  r.get('/v2/groups/*path', (req, res) => serve(req, res, normalizeAppId(`/${(req.params as { path: string[] }).path.filter((s) => s !== '').join('/')}`)));
  const readOnly = (_req: Request, res: Response) => {
    res.status(405).setHeader('Allow', 'GET').json({ message: 'cygnet serves groups read-only (they follow from app ids); create, change and delete apps with /v2/apps' });
  };
  r.all('/v2/groups', readOnly);
  r.all('/v2/groups/*path', readOnly);
  return r;
}
