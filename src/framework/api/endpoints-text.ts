/**
 * Marathon's `text/plain` task list (GET /v2/tasks and /v2/apps/{id}/tasks
 * with `Accept: text/plain`), which haproxy-marathon-bridge and other
 * scripts of Marathon's early days read (EndpointsHelper.appsToEndpointString):
 * per app and service port, one line, tab-separated:
 *
 *   <app id, '/' → '_', no leading '/'> TAB <service port> TAB host:port TAB host:port TAB … LF
 *
 * with the host port of that index of each running task; an app without
 * ports gets one line `<id> TAB ' ' TAB host TAB …`. Every app gets its lines,
 * tasks or not. Marathon 1.10 serves it only with a deprecated feature
 * switched on and answers 406 otherwise; cygnet serves it, since the tools
 * that ask for it know no other format.
 */
import type { Request } from 'express';
import type { FrameworkState } from '../state/framework-state.ts';
import type { AppRecord } from '../state/model.ts';

export function endpointsText(state: FrameworkState, apps: Iterable<AppRecord>): string {
  let out = '';
  for (const app of apps) {
    const id = app.id.split('/').filter((s) => s !== '').join('_');
    const running = state.instancesOf(app.id).filter((i) => i.mesosState === 'TASK_RUNNING' && i.hostname !== undefined);
    const servicePorts = app.current.definition.portDefinitions.map((p) => p.port);
    if (servicePorts.length === 0) {
      out += `${id}\t \t`;
      for (const i of running) out += `${i.hostname as string}\t`;
      out += '\n';
      continue;
    }
    servicePorts.forEach((port, k) => {
      out += `${id}\t${port}\t`;
      for (const i of running) {
        const hostPort = i.hostPorts[k];
        if (hostPort !== undefined) out += `${i.hostname as string}:${hostPort}\t`;
      }
      out += '\n';
    });
  }
  return out;
}

/**
 * The client takes text/plain but not JSON (`Accept: text/plain`, as
 * haproxy-marathon-bridge sends): Marathon's text form is `qs=0.1`, so JSON
 * wins wherever both are acceptable, an Accept of any type and none at all included.
 */
export function wantsPlainText(req: Request): boolean {
  return req.accepts('application/json') === false && req.accepts('text/plain') !== false;
}
