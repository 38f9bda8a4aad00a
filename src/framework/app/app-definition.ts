/**
 * The typed, normalized model of a Marathon app definition (`/v2/apps` JSON),
 * and of one immutable version of it.
 *
 * Invariants of every `AppDefinition` value (parse-app.ts is the only way in):
 * - every field Marathon defaults is filled with Marathon 1.x's default;
 * - `id` is an absolute, normalized path of lowercase RFC 1123 segments;
 * - exactly one of `cmd` / `args` is set (cygnet runs no containers);
 * - numbers are finite and within Marathon's bounds;
 * - the value is deeply readonly and JSON-serializable (it is stored in Raft).
 * `version`/`versionInfo` are not part of the definition: they live in
 * `AppVersion`, so two definitions can be compared for equality directly.
 * No I/O here.
 */
import type { Constraint } from './constraints-types.ts';

export type { Constraint, ConstraintOperator } from './constraints-types.ts';

/** Marathon's defaults (Marathon 1.x, `App.Default*` in its RAML and state code). */
export const APP_DEFAULTS = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  executor: '',
  requirePorts: false,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  killSelection: 'YOUNGEST_FIRST',
  minimumHealthCapacity: 1,
  maximumOverCapacity: 1,
  inactiveAfterSeconds: 0,
  expungeAfterSeconds: 0,
} as const;

/** Health check defaults, per Marathon's `AppHealthCheck` RAML type. */
export const HEALTH_CHECK_DEFAULTS = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
} as const;

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';
export type PortProtocol = 'tcp' | 'udp' | 'udp,tcp';

export interface FetchUri {
  /** May carry a `#sha256=<hex>` fragment, which the agent's fetcher verifies. */
  readonly uri: string;
  readonly extract: boolean;
  readonly executable: boolean;
  readonly cache: boolean;
  readonly destPath?: string;
}

export interface PortDefinition {
  /** 0 = assign one. With `requirePorts` the number is the host port. */
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type HealthCheckProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND' | 'MESOS_HTTP' | 'MESOS_HTTPS' | 'MESOS_TCP';

interface HealthCheckTiming {
  readonly gracePeriodSeconds: number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** 0 = never kill for failing checks. */
  readonly maxConsecutiveFailures: number;
  /** Marathon itself honours it only for MESOS_* and COMMAND checks; it prints 15 for the others. */
  readonly delaySeconds: number;
}

/**
 * Which port a network check targets: `portIndex` into portDefinitions, or a
 * fixed `port`. At least one is set (Marathon fills `portIndex: 0` when neither
 * is given and the app has ports); if both are, `port` wins, as in Marathon.
 */
export interface HealthCheckTarget {
  readonly portIndex?: number;
  readonly port?: number;
}

export type HealthCheck = HealthCheckTiming &
  (
    | ({
        readonly protocol: 'HTTP' | 'HTTPS';
        /** Absent = not given; the checker then requests `/`. */
        readonly path?: string;
        readonly ignoreHttp1xx: boolean;
      } & HealthCheckTarget)
    | ({
        readonly protocol: 'MESOS_HTTP' | 'MESOS_HTTPS';
        readonly path?: string;
      } & HealthCheckTarget)
    | ({ readonly protocol: 'TCP' | 'MESOS_TCP' } & HealthCheckTarget)
    | { readonly protocol: 'COMMAND'; readonly command: { readonly value: string } }
  );

/** Accepted and kept so GET returns it; cygnet may not act on it. */
export interface ReadinessCheck {
  readonly name: string;
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly path: string;
  readonly portName: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly httpStatusCodesForReady: readonly number[];
  readonly preserveLastResponse: boolean;
}

export interface UpgradeStrategy {
  /** 0..1 of `instances` that must stay healthy during an update. */
  readonly minimumHealthCapacity: number;
  /** 0..1 of `instances` that may run in addition during an update. */
  readonly maximumOverCapacity: number;
}

export type UnreachableStrategy =
  | 'disabled'
  | { readonly inactiveAfterSeconds: number; readonly expungeAfterSeconds: number };

export interface AppDefinition {
  /** Absolute normalized path, e.g. `/shop/web`. */
  readonly id: string;
  readonly cmd?: string;
  readonly args?: readonly string[];
  readonly user?: string;
  /** Plain string values only; Marathon's `{secret}` values are rejected as unsupported. */
  readonly env: Readonly<Record<string, string>>;
  readonly instances: number;
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  /** Always 0: cygnet offers no GPUs. */
  readonly gpus: number;
  readonly executor: string;
  readonly constraints: readonly Constraint[];
  readonly fetch: readonly FetchUri[];
  readonly portDefinitions: readonly PortDefinition[];
  readonly requirePorts: boolean;
  readonly backoffSeconds: number;
  readonly backoffFactor: number;
  readonly maxLaunchDelaySeconds: number;
  readonly healthChecks: readonly HealthCheck[];
  readonly readinessChecks: readonly ReadinessCheck[];
  /** Absolute app ids. */
  readonly dependencies: readonly string[];
  readonly upgradeStrategy: UpgradeStrategy;
  readonly labels: Readonly<Record<string, string>>;
  readonly acceptedResourceRoles?: readonly string[];
  /** Marathon fills the default role (`*` unless configured), and prints it. */
  readonly role: string;
  readonly killSelection: KillSelection;
  /** Absent = the agent's default escalation from SIGTERM to SIGKILL. */
  readonly taskKillGracePeriodSeconds?: number;
  readonly unreachableStrategy: UnreachableStrategy;
}

export interface VersionInfo {
  /** ISO-8601 timestamp of the last change of anything, including `instances`. */
  readonly lastScalingAt: string;
  /** ISO-8601 timestamp of the last change of anything but `instances`. */
  readonly lastConfigChangeAt: string;
}

/** One immutable version of an app, as stored and as rendered by `GET /v2/apps/{id}`. */
export interface AppVersion {
  readonly definition: AppDefinition;
  /** ISO-8601 timestamp (`2026-12-06T05:23:14.123Z`), Marathon's version id. */
  readonly version: string;
  readonly versionInfo: VersionInfo;
}
