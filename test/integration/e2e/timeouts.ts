/**
 * Master flags that make agent loss quick to observe in tests: the agent
 * ping timeout (how long a silent agent has before it is unreachable).
 */
export const agentPingTimeoutMsForTests = 3_000;

export const masterAgentTimeoutArgs: readonly string[] = ['--agent-ping-timeout', `${agentPingTimeoutMsForTests}ms`, '--agent-heartbeat-interval', '500ms'];
