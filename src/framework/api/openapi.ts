/**
 * The OpenAPI 3 document of the framework's API, served at `/openapi.json`.
 * `apiOperations` is the one list of what the API serves; a test walks the
 * express routes and checks that every route is documented here and every
 * documented operation answers (not 404).
 */

export interface ApiOperation {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path; `{appId}` may contain slashes (Marathon's app ids). */
  readonly path: string;
  readonly summary: string;
  readonly tag: 'apps' | 'tasks' | 'deployments' | 'queue' | 'events' | 'info' | 'registry' | 'extensions';
  readonly body?: 'app' | 'appUpdate' | 'appUpdates' | 'group' | 'taskIds' | 'canary' | 'member';
}

export const apiOperations: readonly ApiOperation[] = [
  { method: 'get', path: '/v2/apps', summary: 'List apps (query: id, cmd, label, embed=apps.tasks)', tag: 'apps' },
  { method: 'post', path: '/v2/apps', summary: 'Create an app (201 with the app; Marathon-Deployment-Id header)', tag: 'apps', body: 'app' },
  { method: 'put', path: '/v2/apps', summary: 'Create or update several apps, each element with its id (validated and lock-checked before any write; one deployment for all of them)', tag: 'apps', body: 'appUpdates' },
  { method: 'patch', path: '/v2/apps', summary: 'Partial update of several existing apps', tag: 'apps', body: 'appUpdates' },
  { method: 'get', path: '/v2/apps/{appId}', summary: 'One app with counts, deployments and tasks; <group>/* answers {"*": [every app below the group]} and <group>/*/tasks their tasks', tag: 'apps' },
  { method: 'put', path: '/v2/apps/{appId}', summary: 'Update (merges by default: partialUpdate=true), scale, or roll back with {"version": v} (200); create a missing app (201 with its Location); force=true supersedes a deployment', tag: 'apps', body: 'appUpdate' },
  { method: 'patch', path: '/v2/apps/{appId}', summary: 'Partial update', tag: 'apps', body: 'appUpdate' },
  { method: 'delete', path: '/v2/apps/{appId}', summary: 'Destroy the app and kill its tasks; forced unless force=false, as in Marathon', tag: 'apps' },
  { method: 'post', path: '/v2/apps/{appId}/restart', summary: 'Rolling restart', tag: 'apps' },
  { method: 'get', path: '/v2/apps/{appId}/tasks', summary: "The app's tasks (Accept: text/plain: Marathon's tab-separated app, service port, host:port lines)", tag: 'tasks' },
  { method: 'delete', path: '/v2/apps/{appId}/tasks', summary: 'Kill tasks (query: host, scale; scale with wipe is a 400)', tag: 'tasks' },
  { method: 'delete', path: '/v2/apps/{appId}/tasks/{taskId}', summary: 'Kill one task (query: scale)', tag: 'tasks' },
  { method: 'get', path: '/v2/apps/{appId}/versions', summary: 'Version ids, newest first', tag: 'apps' },
  { method: 'get', path: '/v2/apps/{appId}/versions/{version}', summary: 'One version of the definition', tag: 'apps' },
  { method: 'get', path: '/v2/groups', summary: 'The root group: the tree of groups (created by group writes or by the apps inside them), with their apps', tag: 'apps' },
  { method: 'post', path: '/v2/groups', summary: 'Create a group with its apps and subgroups, or empty (201; one deployment for the whole group)', tag: 'apps', body: 'group' },
  { method: 'put', path: '/v2/groups', summary: "Change the root group: apps and groups listed in full replace what is there; scaleBy scales every app", tag: 'apps', body: 'group' },
  { method: 'delete', path: '/v2/groups', summary: 'Delete every app and group', tag: 'apps' },
  { method: 'get', path: '/v2/groups/{groupId}', summary: 'One group (embed: group.apps, group.groups, group.apps.<x>); /v2/groups/{groupId}/apps: every app below it', tag: 'apps' },
  { method: 'post', path: '/v2/groups/{groupId}', summary: 'Create a group below this one (its id resolves against it)', tag: 'apps', body: 'group' },
  { method: 'put', path: '/v2/groups/{groupId}', summary: "Create or change the group's apps (apps and groups listed in full replace what is there), or scale them all with scaleBy", tag: 'apps', body: 'group' },
  { method: 'delete', path: '/v2/groups/{groupId}', summary: 'Delete the group: every app and group inside it, then the group', tag: 'apps' },
  { method: 'get', path: '/v2/tasks', summary: 'Every task (query: status or status[] = running|staging; Accept: text/plain for the tab-separated form)', tag: 'tasks' },
  { method: 'post', path: '/v2/tasks/delete', summary: 'Kill tasks by id {"ids": [...]}: the killed tasks, or with scale=true the deployment that scales their apps down', tag: 'tasks', body: 'taskIds' },
  { method: 'get', path: '/v2/deployments', summary: 'Deployments in progress', tag: 'deployments' },
  { method: 'delete', path: '/v2/deployments/{deploymentId}', summary: 'Cancel: revert (200) or, with force=true, stop where it is (202)', tag: 'deployments' },
  { method: 'get', path: '/v2/queue', summary: 'Instances waiting for offers, with processedOffersSummary', tag: 'queue' },
  { method: 'delete', path: '/v2/queue/{appId}/delay', summary: "Reset an app's launch delay: its waiting instances launch now (204; 404 when none waits)", tag: 'queue' },
  { method: 'get', path: '/v2/events', summary: "Marathon's event stream (text/event-stream; Last-Event-ID resumes; event_type filters)", tag: 'events' },
  { method: 'get', path: '/v2/info', summary: 'About this framework', tag: 'info' },
  { method: 'get', path: '/v2/leader', summary: "The leader's API address", tag: 'info' },
  { method: 'delete', path: '/v2/leader', summary: 'The leader steps down (hands leadership to another replica; a lone replica stays)', tag: 'info' },
  { method: 'get', path: '/ping', summary: 'pong (text/plain; "pong" as JSON for a JSON-only client; 204 when neither is acceptable)', tag: 'info' },
  { method: 'get', path: '/metrics', summary: "metrics: Marathon's JSON, or Prometheus text when text/plain is preferred", tag: 'info' },
  { method: 'get', path: '/metrics/prometheus', summary: 'Prometheus metrics', tag: 'info' },
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'info' },
  { method: 'get', path: '/v1/registry', summary: 'Registry snapshot: every app with its healthy endpoints', tag: 'registry' },
  { method: 'get', path: '/v1/registry/watch', summary: 'Registry watch: RecordIO stream, snapshot then deltas (query: since)', tag: 'registry' },
  { method: 'get', path: '/v1/cluster', summary: "This replica's Raft view: role, term, leader, voters, learners", tag: 'extensions' },
  { method: 'post', path: '/v1/cluster/members', summary: 'Add a replica {"id", "address" (Raft host:port), "role": "learner"|"voter"}', tag: 'extensions', body: 'member' },
  { method: 'delete', path: '/v1/cluster/members/{memberId}', summary: 'Remove a replica', tag: 'extensions' },
  { method: 'post', path: '/v1/apps/{appId}/canary', summary: 'Start a canary {"app": {...changes}, "instances": k, "weight": 0.2}', tag: 'extensions', body: 'canary' },
  { method: 'post', path: '/v1/apps/{appId}/canary/promote', summary: 'Promote the canary to every instance', tag: 'extensions' },
  { method: 'post', path: '/v1/apps/{appId}/canary/abort', summary: 'Abort the canary: back to the base version', tag: 'extensions' },
];

/** Each documented path as a pattern: app and group ids may hold slashes, other parameters are one segment. */
const pathPatterns: readonly { readonly pattern: RegExp; readonly method: string }[] = apiOperations.map((op) => ({
  pattern: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(appId|groupId)\}/g, '.+').replace(/\{[A-Za-z]+\}/g, '[^/]+')}/?$`),
  method: op.method.toUpperCase(),
}));

/** The methods the API serves on `path` (empty: no such path), for a 405's Allow header, as Marathon's Jersey answers. */
export function allowedMethods(path: string): string[] {
  const methods = new Set(pathPatterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods];
}

const bodies: Record<NonNullable<ApiOperation['body']>, unknown> = {
  app: { $ref: '#/components/schemas/App' },
  appUpdate: { $ref: '#/components/schemas/App' },
  appUpdates: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/App' } },
  group: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      apps: { type: 'array', items: { $ref: '#/components/schemas/App' } },
      groups: { type: 'array', items: { type: 'object', description: 'A nested group, of this same shape (without scaleBy and version)' } },
      dependencies: { type: 'array', items: { type: 'string' } },
      scaleBy: { type: 'number', minimum: 0 },
    },
  },
  member: { type: 'object', required: ['id', 'address'], properties: { id: { type: 'integer', minimum: 1 }, address: { type: 'string' }, role: { type: 'string', enum: ['learner', 'voter'] } } },
  taskIds: { type: 'object', required: ['ids'], properties: { ids: { type: 'array', items: { type: 'string' } } } },
  canary: { type: 'object', properties: { app: { $ref: '#/components/schemas/App' }, instances: { type: 'integer', minimum: 1 }, weight: { type: 'number', minimum: 0, maximum: 1 } } },
};

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of apiOperations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(op.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: bodies[op.body] } } } } : {}),
      responses: {
        default: { description: 'Marathon-shaped JSON; errors are {"message": ...} (422 adds "details" with field paths, 409 adds "deployments")' },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'cygnet framework API (Marathon /v2 compatible)', version: '0.1.0' },
    paths,
    components: {
      schemas: {
        App: {
          type: 'object',
          description: "Marathon's app definition (id, cmd|args, cpus, mem, disk, instances, portDefinitions, requirePorts, env, labels, constraints, healthChecks, upgradeStrategy, fetch, backoffSeconds, backoffFactor, maxLaunchDelaySeconds, killSelection, taskKillGracePeriodSeconds, unreachableStrategy, role, acceptedResourceRoles)",
          properties: { id: { type: 'string' }, cmd: { type: 'string' }, instances: { type: 'integer' }, cpus: { type: 'number' }, mem: { type: 'number' } },
        },
      },
    },
  };
}
