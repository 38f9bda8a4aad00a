/**
 * Marathon's `/v2/groups`: the tree of groups (those kept, and those app ids
 * imply: `/shop/web` lives in group `/shop`), each with its apps as
 * `/v2/apps` renders them. Clients list apps through groups
 * (marathon-python's `list_groups`, marathon-node's `groups.get`). Groups
 * have no settings of their own in cygnet, so POST, PUT and DELETE are app
 * writes and the groups' existence (group-service.ts); PATCH (Marathon's
 * `enforceRole`, which cygnet has no use for) answers 405.
 */
import express, { type Request, type Response, type Router } from 'express';
import { NotFoundError } from '../../common/errors.ts';
import { normalizeAppId } from '../app/app-id.ts';
import { GroupService } from '../group-service.ts';
import type { AppRecord } from '../state/model.ts';
import { appsBelow, bodyOf, flag, queryList, sendWrite, textBody, type ApiContext } from './app-routes.ts';
import { parseEmbed, renderAppWithStatus, type AppEmbed, type Json } from './render.ts';

interface GroupNode { id: string; apps: AppRecord[]; groups: Map<string, GroupNode> }

function parentOf(id: string): string {
  const at = id.lastIndexOf('/');
  return at <= 0 ? '/' : id.slice(0, at);
}

function buildTree(apps: Iterable<AppRecord>, kept: Iterable<string>): Map<string, GroupNode> {
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
  for (const id of kept) nodeOf(id);
  for (const app of apps) nodeOf(parentOf(app.id)).apps.push(app);
  return nodes;
}

interface GroupEmbed { readonly apps: boolean; readonly groups: boolean; readonly app: AppEmbed }

/**
 * Marathon's group `embed` (GroupsResource, InfoEmbedResolver): none given
 * means `group.apps`, `group.groups` and `group.pods`; given, only what is
 * named, and `group.apps.<x>` embeds `<x>` in each app (`group.apps.tasks`).
 */
export function parseGroupEmbed(values: readonly string[]): GroupEmbed {
  const given = values.length > 0;
  return {
    apps: !given || values.includes('group.apps'),
    groups: !given || values.includes('group.groups'),
    app: parseEmbed(values.filter((v) => v.startsWith('group.apps.'))),
  };
}

/**
 * A group nothing has been written to yet, such as the root of a new
 * cluster: Marathon's `RootGroup.empty` has version `Timestamp(0)`, and
 * clients read `version` as always present.
 */
const emptyGroupVersion = new Date(0).toISOString();

export function groupRoutes(ctx: ApiContext): Router {
  const r = express.Router();
  const render = (n: GroupNode, embed: GroupEmbed): Json => {
    let version = ctx.state.groups().get(n.id) ?? '';
    for (const a of n.apps) if (a.current.version > version) version = a.current.version;
    const sub = [...n.groups.values()].sort((a, b) => a.id.localeCompare(b.id)).map((g) => render(g, embed));
    for (const g of sub) if (typeof g.version === 'string' && g.version > version) version = g.version;
    return {
      id: n.id,
      apps: embed.apps ? n.apps.sort((a, b) => a.id.localeCompare(b.id)).map((a) => renderAppWithStatus(ctx.state, a, embed.app)) : [],
      groups: embed.groups ? sub : [],
      pods: [],
      dependencies: [],
      version: version !== '' ? version : emptyGroupVersion,
    };
  };
  const serve = async (req: Request, res: Response, id: string) => {
    await ctx.beforeRead(req);
    const tree = buildTree(ctx.state.apps(), ctx.state.groups().keys());
    const embed = parseGroupEmbed(queryList(req, 'embed'));
    // Marathon's GET /v2/groups/{id}/apps: every app below the group, as a bare array.
    if (id === '/apps' || id.endsWith('/apps')) {
      const groupId = id === '/apps' ? '/' : id.slice(0, -'/apps'.length);
      if (ctx.state.isGroup(groupId)) {
        res.json(appsBelow(ctx, groupId).map((a) => renderAppWithStatus(ctx.state, a, embed.app)));
        return;
      }
    }
    const node = tree.get(id);
    if (node === undefined) throw new NotFoundError(`Group '${id}' does not exist`);
    res.json(render(node, embed));
  };
  const groupOf = (req: Request): string => normalizeAppId(`/${((req.params as { path?: string[] }).path ?? []).filter((s) => s !== '').join('/')}`);
  const groups = new GroupService(ctx.state, ctx.apps);
  const notAllowed = (_req: Request, res: Response) => {
    res.status(405).setHeader('Allow', 'GET, POST, PUT, DELETE').json({ message: "cygnet's groups keep no settings of their own, such as enforceRole (PATCH)" });
  };
  // The root and any group below it; one route per path so that the OpenAPI check can read them.
  for (const path of ['/v2/groups', '/v2/groups/*path']) {
    r.get(path, (req, res) => serve(req, res, groupOf(req)));
    r.post(path, textBody, async (req, res) => {
      const { outcome, id } = await groups.create(groupOf(req), bodyOf(req), flag(req, 'force'));
      res.setHeader('Location', `/v2/groups${id === '/' ? '' : id}`);
      sendWrite(res, 201, outcome);
    });
    r.put(path, textBody, async (req, res) => {
      const segs = ((req.params as { path?: string[] }).path ?? []).filter((x) => x !== '');
      if (segs.length >= 2 && segs[segs.length - 2] === 'versions') {
        // Marathon's PUT /v2/groups/{id}/versions/{version} (marathon-python's rollback_group).
        res.status(422).json({ message: 'cygnet keeps versions per app, not per group: roll an app back with PUT /v2/apps/{id} {"version": …}', details: [{ path: '/version', errors: ['group versions are not kept'] }] });
        return;
      }
      if (flag(req, 'dryRun')) {
        res.status(400).json({ message: 'cygnet does not plan group updates without making them (dryRun); leave it out to apply the update' });
        return;
      }
      sendWrite(res, 200, await groups.update(groupOf(req), bodyOf(req), flag(req, 'force')));
    });
    r.delete(path, async (req, res) => {
      sendWrite(res, 200, await groups.remove(groupOf(req), flag(req, 'force')));
    });
    r.all(path, notAllowed);
  }
  return r;
}
