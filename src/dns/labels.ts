/**
 * App ids and port names → DNS labels (RFC 1123), and the rule for names
 * that collide. Pure.
 *
 * Sanitizing a label: lower-case; every run of characters other than
 * `a-z`, `0-9` and `-` becomes one `-`; runs of `-` collapse; leading and
 * trailing `-` go; cut to 63 characters; an empty result becomes `x`.
 * `/shop/Web_Front` is `web-front.shop.<domain>`.
 *
 * Collisions: when two or more apps sanitize to the same name (`/a/web_1`
 * and `/a/web-1`), or an app's name is one of the zone's own names
 * (`leader`, `master`, `ns` directly under the domain), the app whose id
 * sorts first (code-unit order) keeps the plain name when it is not a
 * reserved one; every other app gets `-<8 hex digits of FNV-1a(app id)>`
 * appended to its first label (the label cut so the whole stays ≤ 63). The
 * suffix depends only on the app's id, so a name never changes because
 * another app came or went, except for the one app that owned the plain
 * name while it exists.
 */

export const maxDnsLabelChars = 63;
/** RFC 1035 §2.3.4: 255 octets on the wire is 253 characters in dotted form. */
export const maxDnsNameChars = 253;

export function sanitizeLabel(raw: string): string {
  let s = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  if (s.length > maxDnsLabelChars) s = s.slice(0, maxDnsLabelChars).replace(/-+$/, '');
  return s === '' ? 'x' : s;
}

/** 32-bit FNV-1a of the UTF-16 code units, as 8 hex digits. */
export function fnv1aHex(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** `/shop/web` → `web.shop` (relative to the domain). */
export function appRelativeName(appId: string): string {
  const segments = appId.split('/').filter((s) => s !== '');
  if (segments.length === 0) return 'x';
  return segments.reverse().map(sanitizeLabel).join('.');
}

function withSuffix(relative: string, appId: string): string {
  const dot = relative.indexOf('.');
  const first = dot < 0 ? relative : relative.slice(0, dot);
  const rest = dot < 0 ? '' : relative.slice(dot);
  const suffix = `-${fnv1aHex(appId)}`;
  return `${first.slice(0, maxDnsLabelChars - suffix.length).replace(/-+$/, '')}${suffix}${rest}`;
}

/**
 * Assigns every app id its relative DNS name (without the domain) by the
 * rule above. `reserved` are relative names the zone itself uses.
 */
export function assignAppNames(appIds: readonly string[], reserved: ReadonlySet<string>): Map<string, string> {
  const byName = new Map<string, string[]>();
  for (const id of appIds) {
    const name = appRelativeName(id);
    const group = byName.get(name);
    if (group === undefined) byName.set(name, [id]);
    else group.push(id);
  }
  const out = new Map<string, string>();
  for (const [name, ids] of byName) {
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    ids.forEach((id, i) => {
      out.set(id, i === 0 && !reserved.has(name) ? name : withSuffix(name, id));
    });
  }
  return out;
}
