/**
 * Human-readable output of `cygnet app`: aligned tables for lists (apps,
 * tasks, deployments), `key: value` blocks for one app, one line per write
 * and per event. Reads Marathon's JSON defensively: a missing or odd field
 * prints `-`, never throws. Pure: returns lines, prints nothing.
 */

export type Json = Record<string, unknown>;

/** Cells longer than this are cut with an ellipsis so a long `cmd` cannot wreck the table. */
export const maxCellChars = 48;

const dash = '-';

function str(v: unknown): string {
  if (v === undefined || v === null || v === '') return dash;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function cut(s: string, max = maxCellChars): string {
  const oneLine = s.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

function commandOf(app: Json): string {
  if (typeof app.cmd === 'string') return app.cmd;
  const args = arr(app.args);
  return args.length > 0 ? args.map(String).join(' ') : dash;
}

export function formatAppList(body: Json): string[] {
  const apps = arr(body.apps).map(obj);
  if (apps.length === 0) return ['no apps'];
  return formatTable(
    ['ID', 'RUNNING', 'HEALTHY', 'CPUS', 'MEM', 'DEPLOYING', 'VERSION', 'CMD'],
    apps.map((a) => [
      str(a.id),
      `${num(a.tasksRunning)}/${num(a.instances)}`,
      arr(a.healthChecks).length > 0 ? String(num(a.tasksHealthy)) : dash,
      str(a.cpus),
      str(a.mem),
      arr(a.deployments).length > 0 ? 'yes' : 'no',
      str(a.version),
      cut(commandOf(a)),
    ]),
  );
}

function constraintText(c: unknown): string {
  return arr(c).map(String).join(':');
}

function labelsText(labels: unknown): string {
  const entries = Object.entries(obj(labels));
  return entries.length === 0 ? dash : entries.map(([k, v]) => `${k}=${str(v)}`).join(', ');
}

export function formatApp(body: Json): string[] {
  const a = obj(body.app ?? body);
  const ports = arr(a.portDefinitions).map(obj).map((p) => `${str(p.port)}/${str(p.protocol)}${typeof p.name === 'string' ? ` (${p.name})` : ''}`);
  const health = arr(a.healthChecks).map(obj).map((h) => `${str(h.protocol)}${typeof h.path === 'string' ? ` ${h.path}` : ''} every ${str(h.intervalSeconds)}s`);
  const deployments = arr(a.deployments).map(obj).map((d) => str(d.id));
  const versionInfo = obj(a.versionInfo);
  const lines = [
    `id:           ${str(a.id)}`,
    `cmd:          ${commandOf(a)}`,
    `instances:    ${num(a.instances)} (running ${num(a.tasksRunning)}, staged ${num(a.tasksStaged)}, healthy ${num(a.tasksHealthy)}, unhealthy ${num(a.tasksUnhealthy)})`,
    `resources:    cpus ${str(a.cpus)}, mem ${str(a.mem)} MB, disk ${str(a.disk)} MB`,
    `ports:        ${ports.length === 0 ? dash : ports.join(', ')}`,
    `constraints:  ${arr(a.constraints).length === 0 ? dash : arr(a.constraints).map(constraintText).join(', ')}`,
    `health:       ${health.length === 0 ? dash : health.join(', ')}`,
    `labels:       ${labelsText(a.labels)}`,
    `version:      ${str(a.version)} (config changed ${str(versionInfo.lastConfigChangeAt)})`,
    `deployments:  ${deployments.length === 0 ? dash : deployments.join(', ')}`,
  ];
  const tasks = arr(a.tasks).map(obj);
  if (tasks.length > 0) lines.push('', ...formatTasks({ tasks }));
  const failure = obj(a.lastTaskFailure);
  if (typeof failure.message === 'string') lines.push('', `last failure: ${str(failure.state)} ${failure.message} (${str(failure.timestamp)})`);
  return lines;
}

function healthOf(t: Json): string {
  const results = arr(t.healthCheckResults).map(obj);
  if (results.length === 0) return dash;
  return results.every((r) => r.alive === true) ? 'healthy' : 'unhealthy';
}

export function formatTasks(body: Json): string[] {
  const tasks = arr(body.tasks).map(obj);
  if (tasks.length === 0) return ['no tasks'];
  return formatTable(
    ['TASK', 'HOST', 'PORTS', 'STATE', 'HEALTH', 'VERSION', 'STARTED'],
    tasks.map((t) => [str(t.id), str(t.host), arr(t.ports).map(String).join(',') || dash, str(t.state), healthOf(t), str(t.version), str(t.startedAt)]),
  );
}

export function formatDeployments(list: readonly Json[]): string[] {
  if (list.length === 0) return ['no deployments'];
  return formatTable(
    ['ID', 'APPS', 'STEP', 'ACTIONS', 'VERSION'],
    list.map((d) => [
      str(d.id),
      arr(d.affectedApps).map(String).join(',') || dash,
      `${num(d.currentStep)}/${num(d.totalSteps)}`,
      arr(d.currentActions).map(obj).map((a) => `${str(a.action)} ${str(a.app)}`).join(', ') || dash,
      str(d.version),
    ]),
  );
}

/** What a write answered: the deployment it started and the version it made. */
export function formatWrite(verb: string, id: string, body: Json): string {
  const deployment = typeof body.deploymentId === 'string' ? body.deploymentId : arr(body.deployments).map(obj).map((d) => str(d.id))[0];
  return `${verb} ${id}: deployment ${deployment ?? dash}, version ${str(body.version)}`;
}

/** One line per event: time, type, and the fields that say what happened. */
export function formatEvent(type: string, data: unknown): string {
  if (typeof data !== 'object' || data === null) return `${dash} ${type} ${cut(str(data), 200)}`;
  const d = obj(data);
  const parts = [str(d.timestamp), type];
  if (typeof d.appId === 'string') parts.push(d.appId);
  if (typeof d.taskId === 'string') parts.push(d.taskId);
  if (typeof d.taskStatus === 'string') parts.push(d.taskStatus);
  if (typeof d.alive === 'boolean') parts.push(d.alive ? 'alive' : 'dead');
  const plan = obj(d.plan);
  if (typeof plan.id === 'string') parts.push(`deployment ${plan.id}`);
  if (typeof d.id === 'string' && type.startsWith('deployment')) parts.push(`deployment ${d.id}`);
  if (typeof d.message === 'string' && d.message !== '') parts.push(cut(d.message));
  return parts.join(' ');
}
