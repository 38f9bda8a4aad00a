/**
 * App ids: Marathon's `PathId` rules for `/shop/web`-style ids, and their DNS names.
 *
 * Marathon's rules, kept exactly:
 * - a raw id is split on `/` after dropping leading/trailing slashes; empty
 *   segments vanish (`//a//b/` is `/a/b`);
 * - a relative id is resolved against a base group (`/` by default); `.` is
 *   dropped, `..` drops the segment before it (never above the root);
 * - each segment of the raw id is lowercase RFC 1123-like labels joined by dots
 *   (`^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$`),
 *   or `.`/`..`;
 * - the last segment must not be `restart`, `tasks`, `versions` (they are REST
 *   sub-resources), and an app id cannot be the root.
 * No I/O here.
 */

/** Marathon's `ID_PATH_SEGMENT_PATTERN`, as printed in its error message. */
export const ID_SEGMENT_PATTERN_TEXT =
  '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$';

/**
 * One segment of labels: `web`, `web-1`, `a.b`. Written so that no input makes
 * it backtrack more than linearly (labels cannot contain the `.` between them).
 */
const LABELS_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

export const RESERVED_LAST_SEGMENTS: readonly string[] = ['restart', 'tasks', 'versions', '.', '..'];

/** DNS limits (RFC 1035 §2.3.4). */
const MAX_DNS_LABEL = 63;
const MAX_DNS_NAME = 253;

/** The non-empty segments of a raw id, in order, without resolving `.`/`..`. */
export function rawSegments(raw: string): string[] {
  return raw.split('/').filter((s) => s !== '');
}

export function isAbsoluteId(raw: string): boolean {
  return raw.startsWith('/');
}

/** Marathon's segment rule: labels joined by dots, or `.` / `..`. */
export function isValidSegment(segment: string): boolean {
  return segment === '.' || segment === '..' || LABELS_RE.test(segment);
}

/**
 * Marathon's `PathId` RAML pattern for a whole raw id, decided segment by
 * segment: every `/`-separated piece is empty, `..`, or labels (so `.` alone is
 * refused here, as Marathon's pattern does, though `..` is allowed). Marathon's
 * own regex,
 * `^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9]))?($|\/))+$`,
 * accepts the same strings but backtracks exponentially on ids like
 * `//////…//!`, so it is not used.
 */
export function isPathIdSyntax(raw: string): boolean {
  return raw.split('/').every((segment) => segment === '' || segment === '..' || LABELS_RE.test(segment));
}

/** Resolves `raw` against `base` (an absolute group id) into an absolute normalized id. */
export function normalizeAppId(raw: string, base = '/'): string {
  const start = isAbsoluteId(raw) ? [] : resolveDots(rawSegments(base));
  return toId(resolveDots([...start, ...rawSegments(raw)]));
}

/** The segments of an absolute normalized id: `/shop/web` → `['shop', 'web']`. */
export function idSegments(id: string): string[] {
  return rawSegments(id);
}

/** The enclosing group: `/shop/web` → `/shop`, `/web` → `/`, `/` → `/`. */
export function parentGroupId(id: string): string {
  const s = idSegments(id);
  return toId(s.slice(0, -1));
}

export function isRootId(id: string): boolean {
  return idSegments(id).length === 0;
}

/** `true` when `id` lies strictly inside `group` (`/shop/web` in `/shop`). */
export function isInGroup(id: string, group: string): boolean {
  const a = idSegments(id);
  const g = idSegments(group);
  return a.length > g.length && g.every((s, i) => a[i] === s);
}

/**
 * The DNS name of an app: segments reversed, then the domain, as Marathon's
 * `toHostname` and Mesos-DNS do: `('/shop/web', 'cygnet')` → `web.shop.cygnet`.
 * Every label is sanitized to RFC 1123 (lowercase alphanumerics and inner
 * dashes, at most 63 characters); dots inside a segment become dashes so one
 * segment stays one label. Labels that sanitize to nothing are dropped.
 */
export function toDnsName(id: string, domain: string): string {
  const labels = idSegments(id).reverse().map(sanitizeDnsLabel).filter((l) => l !== '');
  const domainLabels = domain.split('.').map(sanitizeDnsLabel).filter((l) => l !== '');
  const name = [...labels, ...domainLabels].join('.');
  return name.length <= MAX_DNS_NAME ? name : name.slice(name.length - MAX_DNS_NAME).replace(/^[^a-z0-9]+/, '');
}

/** One RFC 1123 label: lowercase, `[a-z0-9-]`, no leading/trailing dash, at most 63 characters. */
export function sanitizeDnsLabel(s: string): string {
  const cleaned = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned.slice(0, MAX_DNS_LABEL).replace(/-+$/, '');
}

function resolveDots(segments: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

function toId(segments: readonly string[]): string {
  return `/${segments.join('/')}`;
}
