/**
 * Marathon's id formats, so tools that parse them keep working:
 *   instance  `shop_web.instance-<uuid>`
 *   task      `shop_web.instance-<uuid>._app.<incarnation>`
 * Pure.
 */

/** `/shop/web` → `shop_web` (Marathon's `safePath`). */
export function safeAppPath(appId: string): string {
  return appId.replace(/^\//, '').replace(/\//g, '_');
}

export function newInstanceId(appId: string, uuid: string): string {
  return `${safeAppPath(appId)}.instance-${uuid}`;
}

export function taskIdFor(instanceId: string, incarnation: number): string {
  return `${instanceId}._app.${incarnation}`;
}

/** The instance id inside a task id, or undefined if it is not one of ours. */
export function instanceIdOfTask(taskId: string): string | undefined {
  const at = taskId.lastIndexOf('._app.');
  return at > 0 ? taskId.slice(0, at) : undefined;
}
