/**
 * `OfferStatsAccumulator`: one app's offer-matching statistics across rounds,
 * rendered as Marathon's `processedOffersSummary` in `/v2/queue`. The shell
 * keeps one per app while it has instances waiting and `reset()`s it when the
 * app has nothing left to launch (Marathon drops the statistics on
 * `LaunchFinished`).
 *
 * What is counted (Marathon's OfferMatchStatistics):
 *  - `processedOffersCount`: offers the app processed (used + unused);
 *  - `unusedOffersCount`: offers it processed and did not use;
 *  - `rejectSummaryLaunchAttempt`: per unused offer, its first reason in the
 *    funnel (REASON_FUNNEL), over the whole launch attempt;
 *  - `rejectSummaryLastOffers`: the same over the *last* unused offer of each
 *    agent only, i.e. what the cluster looks like now.
 * Both summaries list every funnel reason in order with `processed` = the
 * offers that reached that step (the previous step's `processed` minus its
 * `declined`), so a UI can draw the funnel.
 *
 * Bound: one entry per agent in `lastByAgent`; agents are bounded by the
 * cluster's size, so no further cap is needed.
 *
 * Pure (time comes in as `nowMs`); no I/O.
 */

import { REASON_FUNNEL, type AppRoundStats, type DeclinedOfferStep, type NoOfferMatchReason, type ProcessedOffersSummary } from './types.ts';

const funnelRank = new Map<NoOfferMatchReason, number>(REASON_FUNNEL.map((r, i) => [r, i]));

/** The reason Marathon counts for an offer refused for several: the first in the funnel. */
export function funnelReason(reasons: readonly NoOfferMatchReason[]): NoOfferMatchReason | undefined {
  let best: NoOfferMatchReason | undefined;
  for (const r of reasons) if (best === undefined || funnelRank.get(r)! < funnelRank.get(best)!) best = r;
  return best;
}

/** Marathon's `declinedOfferSteps`: the funnel, each step with what reached it and what it declined. */
export function declinedOfferSteps(processed: number, declined: ReadonlyMap<NoOfferMatchReason, number>): DeclinedOfferStep[] {
  const steps: DeclinedOfferStep[] = [];
  let left = processed;
  for (const reason of REASON_FUNNEL) {
    const n = declined.get(reason) ?? 0;
    steps.push({ reason, declined: n, processed: left });
    left -= n;
  }
  return steps;
}

export class OfferStatsAccumulator {
  private processed = 0;
  private unused = 0;
  private lastUsedAtMs: number | undefined;
  private lastUnusedAtMs: number | undefined;
  private readonly launchAttempt = new Map<NoOfferMatchReason, number>();
  private readonly lastByAgent = new Map<string, readonly NoOfferMatchReason[]>();

  /** Adds one round's statistics of this app (from `PlacementResult.summary.apps`). */
  record(round: AppRoundStats, nowMs: number): void {
    this.processed += round.usedOffers + round.unusedOffers.length;
    this.unused += round.unusedOffers.length;
    if (round.usedOffers > 0) this.lastUsedAtMs = nowMs;
    if (round.unusedOffers.length > 0) this.lastUnusedAtMs = nowMs;
    for (const u of round.unusedOffers) {
      const reason = funnelReason(u.reasons);
      if (reason !== undefined) this.launchAttempt.set(reason, (this.launchAttempt.get(reason) ?? 0) + 1);
      this.lastByAgent.set(u.agentId, u.reasons);
    }
  }

  /** Forgets everything: the app has no instance waiting any more. */
  reset(): void {
    this.processed = 0;
    this.unused = 0;
    this.lastUsedAtMs = undefined;
    this.lastUnusedAtMs = undefined;
    this.launchAttempt.clear();
    this.lastByAgent.clear();
  }

  /** Marathon's `processedOffersSummary`, field for field. */
  summary(): ProcessedOffersSummary {
    const last = new Map<NoOfferMatchReason, number>();
    for (const reasons of this.lastByAgent.values()) {
      const reason = funnelReason(reasons);
      if (reason !== undefined) last.set(reason, (last.get(reason) ?? 0) + 1);
    }
    // Marathon's key order, and no key for a time that never happened.
    return {
      processedOffersCount: this.processed,
      unusedOffersCount: this.unused,
      ...(this.lastUnusedAtMs === undefined ? {} : { lastUnusedOfferAt: new Date(this.lastUnusedAtMs).toISOString() }),
      ...(this.lastUsedAtMs === undefined ? {} : { lastUsedOfferAt: new Date(this.lastUsedAtMs).toISOString() }),
      rejectSummaryLastOffers: declinedOfferSteps(this.lastByAgent.size, last),
      rejectSummaryLaunchAttempt: declinedOfferSteps(this.processed, this.launchAttempt),
    };
  }

  /** The last reasons per agent (Marathon's `lastUnusedOffers`), agent ids sorted. */
  lastUnusedByAgent(): readonly { readonly agentId: string; readonly reasons: readonly NoOfferMatchReason[] }[] {
    return [...this.lastByAgent].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([agentId, reasons]) => ({ agentId, reasons }));
  }
}
