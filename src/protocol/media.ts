/**
 * Content negotiation for the HTTP APIs, as Mesos does it: a request body is
 * JSON or protobuf by its Content-Type; a response (or stream) by the Accept
 * header, with q-values honoured.
 *
 * Invariants: pure; failures are BadRequestError (400, no Content-Type),
 * UnsupportedMediaTypeError (415) and NotAcceptableError (406) with Mesos'
 * messages. The scheduler and operator APIs answer JSON whenever the Accept
 * header allows it (none, or a wildcard, included), whatever the request's
 * type, as Mesos' master does.
 */

import { BadRequestError, NotAcceptableError, UnsupportedMediaTypeError } from '../common/errors.ts';

export type MediaType = 'application/json' | 'application/x-protobuf';

export const JSON_MEDIA: MediaType = 'application/json';
export const PROTOBUF_MEDIA: MediaType = 'application/x-protobuf';
export const SUPPORTED_MEDIA_TYPES: readonly MediaType[] = [JSON_MEDIA, PROTOBUF_MEDIA];

/** Media type of a RecordIO stream whose records' type is named by Message-Content-Type (Mesos ≥ 1.2). */
export const RECORDIO_MEDIA = 'application/recordio';

/** How to answer a streaming request (SUBSCRIBE): the record codec and the response headers. */
export interface StreamMedia {
  /** Codec of each record. */
  media: MediaType;
  /** `Content-Type` of the response. */
  contentType: string;
  /** `Message-Content-Type` of the response, set only for application/recordio. */
  messageContentType?: MediaType;
}

/** Longest Accept header parsed; a longer one is a hostile or broken client. */
const MAX_ACCEPT_CHARS = 4096;

/** The media type of a request body from its Content-Type header (parameters such as charset ignored). */
export function requestMediaType(contentType: string | undefined): MediaType {
  // Mesos answers a missing Content-Type with 400, an unsupported one with 415.
  if (contentType === undefined || contentType.trim() === '') throw new BadRequestError("Expecting 'Content-Type' to be present");
  const essence = contentType.split(';', 1)[0].trim().toLowerCase();
  if (essence === JSON_MEDIA || essence === PROTOBUF_MEDIA) return essence;
  throw new UnsupportedMediaTypeError(
    `Expecting 'Content-Type' of ${JSON_MEDIA} or ${PROTOBUF_MEDIA}, got '${truncate(contentType)}'`,
  );
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/**
 * The media type of a response from the request's Accept header. No Accept
 * (or only wildcards) → `fallback`; among equally preferred types `fallback`
 * wins, then JSON. Nothing acceptable → NotAcceptableError.
 */
export function responseMediaType(accept: string | undefined, fallback: MediaType = JSON_MEDIA): MediaType {
  if (accept === undefined || accept.trim() === '') return fallback;
  const ranges = parseAccept(accept.slice(0, MAX_ACCEPT_CHARS));
  const candidates = fallback === PROTOBUF_MEDIA ? [PROTOBUF_MEDIA, JSON_MEDIA] : [JSON_MEDIA, PROTOBUF_MEDIA];
  let best: MediaType | undefined;
  let bestQ = 0;
  for (const media of candidates) {
    const q = qualityOf(media, ranges);
    if (q > bestQ) {
      best = media;
      bestQ = q;
    }
  }
  if (best === undefined) {
    throw new NotAcceptableError(`Expecting 'Accept' to allow ${JSON_MEDIA} or ${PROTOBUF_MEDIA}, got '${truncate(accept)}'`);
  }
  return best;
}

/**
 * Negotiates a streaming response. Mesos v1 clients either ask for the record
 * codec directly (`Accept: application/json`, answered with that
 * Content-Type and RecordIO framing — what mesos-go's scheduler does) or ask
 * for `Accept: application/recordio` with `Message-Accept: <codec>`, answered
 * with `Content-Type: application/recordio` and `Message-Content-Type`.
 */
export function streamMediaType(accept: string | undefined, messageAccept: string | undefined, fallback: MediaType = JSON_MEDIA): StreamMedia {
  if (accept !== undefined && accept.trim() !== '') {
    const ranges = parseAccept(accept.slice(0, MAX_ACCEPT_CHARS));
    const recordio = ranges.find((r) => `${r.type}/${r.subtype}` === RECORDIO_MEDIA);
    if (recordio !== undefined && recordio.q > 0) {
      const direct = SUPPORTED_MEDIA_TYPES.some((m) => qualityOf(m, ranges) > recordio.q);
      if (!direct) {
        const media = responseMediaType(messageAccept, fallback);
        return { media, contentType: RECORDIO_MEDIA, messageContentType: media };
      }
    }
  }
  const media = responseMediaType(accept, fallback);
  return { media, contentType: media };
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [mediaPart, ...params] = part.split(';');
    const media = mediaPart.trim().toLowerCase();
    const slash = media.indexOf('/');
    if (slash <= 0 || slash === media.length - 1) continue; // not a media range: ignore, as browsers do
    let q = 1;
    for (const param of params) {
      const [key, val] = param.split('=', 2).map((s) => s.trim().toLowerCase());
      if (key === 'q' && val !== undefined) {
        const parsed = Number(val);
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    ranges.push({ type: media.slice(0, slash), subtype: media.slice(slash + 1), q });
  }
  return ranges;
}

/** RFC 9110 §12.5.1: the most specific matching range decides the quality. */
function qualityOf(media: MediaType, ranges: readonly MediaRange[]): number {
  const [type, subtype] = media.split('/');
  let specificity = -1;
  let q = 0;
  for (const r of ranges) {
    let s: number;
    if (r.type === type && r.subtype === subtype) s = 2;
    else if (r.type === type && r.subtype === '*') s = 1;
    else if (r.type === '*' && r.subtype === '*') s = 0;
    else continue;
    if (s > specificity || (s === specificity && r.q > q)) {
      specificity = s;
      q = r.q;
    }
  }
  return q;
}

function truncate(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}…` : s;
}
