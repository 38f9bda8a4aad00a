/**
 * Sample messages in canonical form (what the decoders return): one per
 * Call/Event type of every API, with most optional fields filled in, for the
 * round-trip, property and description tests.
 */

import type { AgentCall, AgentEvent } from '../../../src/protocol/agent-types.ts';
import type {
  ExecutorCall,
  ExecutorEvent,
  ExecutorInfo,
  FrameworkInfo,
  Offer,
  SchedulerCall,
  SchedulerEvent,
  TaskInfo,
  TaskStatus,
} from '../../../src/protocol/mesos-types.ts';
import type { MessageName } from '../../../src/protocol/codec.ts';

export const UUID = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64');

export const frameworkInfo: FrameworkInfo = {
  user: 'root',
  name: 'marathon',
  id: { value: 'fw-1' },
  failover_timeout: 604800,
  checkpoint: true,
  role: '*',
  roles: ['web', 'batch'],
  hostname: 'fw.example',
  principal: 'marathon',
  webui_url: 'http://fw.example:8080',
  capabilities: [{ type: 'PARTITION_AWARE' }, { type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }],
  labels: { labels: [{ key: 'team', value: 'infra' }, { key: 'bare' }] },
};

export const executorInfo: ExecutorInfo = {
  type: 'CUSTOM',
  executor_id: { value: 'exec-1' },
  framework_id: { value: 'fw-1' },
  command: { value: './executor', shell: true },
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
  name: 'my executor',
  data: Buffer.from('executor-data').toString('base64'),
  shutdown_grace_period: { nanoseconds: 5_000_000_000 },
};

export const taskInfo: TaskInfo = {
  name: 'web.1',
  task_id: { value: 'web.1a2b' },
  agent_id: { value: 'agent-1' },
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: '*', allocation_info: { role: 'web' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 64 }, reservations: [{ type: 'DYNAMIC', role: 'web', principal: 'ops' }] },
  ],
  command: {
    uris: [{ value: 'http://127.0.0.1:9/app.tgz', executable: false, extract: true, cache: false, output_file: 'app.tgz' }],
    environment: { variables: [{ name: 'PORT0', type: 'VALUE', value: '31000' }] },
    shell: false,
    value: '/usr/bin/python3',
    arguments: ['python3', '-m', 'http.server', '31000'],
    user: 'nobody',
  },
  container: { type: 'MESOS', hostname: 'web1' },
  health_check: {
    type: 'HTTP',
    http: { scheme: 'http', port: 31000, path: '/health', statuses: [200, 204] },
    delay_seconds: 1,
    interval_seconds: 2,
    timeout_seconds: 1.5,
    consecutive_failures: 3,
    grace_period_seconds: 10,
  },
  kill_policy: { grace_period: { nanoseconds: 3_000_000_000 } },
  data: Buffer.from([0, 1, 2, 255]).toString('base64'),
  labels: { labels: [{ key: 'canary', value: 'true' }] },
  discovery: {
    visibility: 'FRAMEWORK',
    name: 'web',
    ports: { ports: [{ number: 31000, name: 'http', protocol: 'tcp', visibility: 'CLUSTER' }] },
  },
};

export const taskStatus: TaskStatus = {
  task_id: { value: 'web.1a2b' },
  state: 'TASK_RUNNING',
  message: 'started',
  source: 'SOURCE_EXECUTOR',
  reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  data: Buffer.from('hi').toString('base64'),
  agent_id: { value: 'agent-1' },
  executor_id: { value: 'web.1a2b' },
  timestamp: 1763776800.25,
  uuid: UUID,
  healthy: true,
  labels: { labels: [{ key: 'k', value: 'v' }] },
  container_status: { container_id: { value: 'c1', parent: { value: 'c0' } }, executor_pid: 4242 },
  unreachable_time: { nanoseconds: 1_763_776_800_000_000_000 },
};

export const offer: Offer = {
  id: { value: 'offer-7' },
  framework_id: { value: 'fw-1' },
  agent_id: { value: 'agent-1' },
  hostname: 'host1',
  url: { scheme: 'http', address: { hostname: 'host1', ip: '127.0.0.1', port: 5051 }, path: '/agent(1)' },
  resources: taskInfo.resources,
  attributes: [
    { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
    { name: 'zone', type: 'SET', set: { item: ['a', 'b'] } },
    { name: 'gen', type: 'SCALAR', scalar: { value: 3 } },
  ],
  executor_ids: [{ value: 'exec-1' }],
  allocation_info: { role: 'web' },
};

export const schedulerCalls: SchedulerCall[] = [
  { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo, suppressed_roles: ['batch'] } },
  { framework_id: { value: 'fw-1' }, type: 'TEARDOWN' },
  {
    framework_id: { value: 'fw-1' },
    type: 'ACCEPT',
    accept: {
      offer_ids: [{ value: 'offer-7' }],
      operations: [{ type: 'LAUNCH', launch: { task_infos: [taskInfo] } }],
      filters: { refuse_seconds: 1 },
    },
  },
  { framework_id: { value: 'fw-1' }, type: 'DECLINE', decline: { offer_ids: [{ value: 'o1' }, { value: 'o2' }], filters: { refuse_seconds: 0 } } },
  { framework_id: { value: 'fw-1' }, type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [{ value: 'io1' }] } },
  { framework_id: { value: 'fw-1' }, type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [{ value: 'io1' }], filters: { refuse_seconds: 5 } } },
  { framework_id: { value: 'fw-1' }, type: 'REVIVE', revive: { roles: ['web'] } },
  { framework_id: { value: 'fw-1' }, type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: { value: 'agent-1' }, kill_policy: { grace_period: { nanoseconds: 1 } } } },
  { framework_id: { value: 'fw-1' }, type: 'SHUTDOWN', shutdown: { executor_id: { value: 'exec-1' }, agent_id: { value: 'agent-1' } } },
  { framework_id: { value: 'fw-1' }, type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'agent-1' }, task_id: { value: 't1' }, uuid: UUID } },
  { framework_id: { value: 'fw-1' }, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: 'agent-1' } }, { task_id: { value: 't2' } }] } },
  { framework_id: { value: 'fw-1' }, type: 'RECONCILE', reconcile: {} },
  { framework_id: { value: 'fw-1' }, type: 'MESSAGE', message: { agent_id: { value: 'agent-1' }, executor_id: { value: 'exec-1' }, data: 'aGVsbG8=' } },
  { framework_id: { value: 'fw-1' }, type: 'REQUEST', request: { requests: [{ agent_id: { value: 'agent-1' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }] } },
  { framework_id: { value: 'fw-1' }, type: 'SUPPRESS', suppress: { roles: ['web'] } },
  {
    framework_id: { value: 'fw-1' },
    type: 'UPDATE_FRAMEWORK',
    update_framework: { framework_info: { user: 'u', name: 'fw', id: { value: 'fw-1' }, roles: ['web', 'batch'], capabilities: [{ type: 'MULTI_ROLE' }] }, suppressed_roles: ['batch'] },
  },
];

export const schedulerEvents: SchedulerEvent[] = [
  {
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: { value: 'fw-1' },
      heartbeat_interval_seconds: 15,
      master_info: { id: 'm1', ip: 16777343, port: 5050, hostname: 'localhost', version: '1.11.0', address: { hostname: 'localhost', ip: '127.0.0.1', port: 5050 } },
    },
  },
  { type: 'OFFERS', offers: { offers: [offer] } },
  {
    type: 'INVERSE_OFFERS',
    inverse_offers: {
      inverse_offers: [{ id: { value: 'io1' }, framework_id: { value: 'fw-1' }, agent_id: { value: 'agent-1' }, unavailability: { start: { nanoseconds: 5 }, duration: { nanoseconds: 10 } } }],
    },
  },
  { type: 'RESCIND', rescind: { offer_id: { value: 'offer-7' } } },
  { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: 'io1' } } },
  { type: 'UPDATE', update: { status: taskStatus } },
  { type: 'MESSAGE', message: { agent_id: { value: 'agent-1' }, executor_id: { value: 'exec-1' }, data: 'AAEC' } },
  { type: 'FAILURE', failure: { agent_id: { value: 'agent-1' }, executor_id: { value: 'exec-1' }, status: -1 } },
  { type: 'ERROR', error: { message: 'Framework has been removed' } },
  { type: 'HEARTBEAT' },
];

export const executorCalls: ExecutorCall[] = [
  {
    executor_id: { value: 'exec-1' },
    framework_id: { value: 'fw-1' },
    type: 'SUBSCRIBE',
    subscribe: { unacknowledged_tasks: [taskInfo], unacknowledged_updates: [{ status: taskStatus }] },
  },
  { executor_id: { value: 'exec-1' }, framework_id: { value: 'fw-1' }, type: 'UPDATE', update: { status: { ...taskStatus, state: 'TASK_FINISHED' } } },
  { executor_id: { value: 'exec-1' }, framework_id: { value: 'fw-1' }, type: 'MESSAGE', message: { data: 'aGk=' } },
];

export const executorEvents: ExecutorEvent[] = [
  {
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: executorInfo,
      framework_info: frameworkInfo,
      agent_info: { hostname: 'host1', port: 5051, id: { value: 'agent-1' } },
      container_id: { value: 'c1' },
    },
  },
  { type: 'LAUNCH', launch: { task: taskInfo } },
  { type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [taskInfo] } } },
  { type: 'KILL', kill: { task_id: { value: 't1' }, kill_policy: { grace_period: { nanoseconds: 2_000_000_000 } } } },
  { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 't1' }, uuid: UUID } },
  { type: 'MESSAGE', message: { data: 'aGk=' } },
  { type: 'ERROR', error: { message: 'boom' } },
  { type: 'SHUTDOWN' },
  { type: 'HEARTBEAT' },
];

export const agentCalls: AgentCall[] = [
  {
    type: 'SUBSCRIBE',
    subscribe: {
      agent_info: {
        hostname: 'host1',
        port: 5051,
        resources: offer.resources,
        attributes: offer.attributes,
        id: { value: 'agent-1' },
      },
      tasks: [taskInfo],
      task_statuses: [taskStatus],
      frameworks: [frameworkInfo],
    },
  },
  { type: 'SUBSCRIBE', subscribe: { agent_info: { hostname: 'fresh' } } },
  { agent_id: { value: 'agent-1' }, type: 'UPDATE', update: { status: taskStatus } },
  { agent_id: { value: 'agent-1' }, type: 'HEARTBEAT' },
];

export const agentEvents: AgentEvent[] = [
  { type: 'SUBSCRIBED', subscribed: { agent_id: { value: 'agent-1' }, heartbeat_interval_seconds: 0.5 } },
  { type: 'LAUNCH', launch: { framework_info: frameworkInfo, task: taskInfo } },
  { type: 'KILL', kill: { framework_id: { value: 'fw-1' }, task_id: { value: 't1' }, kill_policy: { grace_period: { nanoseconds: 0 } } } },
  { type: 'ACKNOWLEDGE', acknowledge: { framework_id: { value: 'fw-1' }, task_id: { value: 't1' }, uuid: UUID } },
  { type: 'SHUTDOWN_FRAMEWORK', shutdown_framework: { framework_id: { value: 'fw-1' } } },
  { type: 'HEARTBEAT' },
  { type: 'ERROR', error: { message: 'unknown agent' } },
  { type: 'RECONCILE', reconcile: { task_ids: [{ value: 't1' }, { value: 't2' }] } },
  { type: 'RECONCILE', reconcile: {} },
];

/** Every sample, by the message name it is a sample of. */
export const samples: ReadonlyArray<readonly [MessageName, object]> = [
  ...schedulerCalls.map((m) => ['mesos.v1.scheduler.Call', m] as const),
  ...schedulerEvents.map((m) => ['mesos.v1.scheduler.Event', m] as const),
  ...executorCalls.map((m) => ['mesos.v1.executor.Call', m] as const),
  ...executorEvents.map((m) => ['mesos.v1.executor.Event', m] as const),
  ...agentCalls.map((m) => ['cygnet.agent.Call', m] as const),
  ...agentEvents.map((m) => ['cygnet.agent.Event', m] as const),
  ['mesos.v1.TaskInfo', taskInfo],
  ['mesos.v1.TaskStatus', taskStatus],
  ['mesos.v1.FrameworkInfo', frameworkInfo],
  ['mesos.v1.ExecutorInfo', executorInfo],
  ['mesos.v1.Offer', offer],
];
