import type { LeadEventType, StoredEvent } from '../types';

/** What the page hears of a lead event: no personal data (no traits, no ids), ever. */
export interface LeadAnnouncement {
  type: LeadEventType;
  stage: string;
  score: number;
  n: number;
  /** The three rules that gave the most points. */
  rules: string[];
}

/**
 * Tells the page about a lead event, for sites without a backend: a `leadscore:<type>` CustomEvent
 * on `document`, and (unless `data-datalayer="false"`) `{ event: 'leadscore_<type>', leadscore }`
 * pushed to `window.dataLayer` when the page has one (GTM, gtag). Only the tab where the event
 * happened announces it, so a tag counts it once.
 */
export function announce(event: StoredEvent, dataLayer: boolean): void {
  const detail: LeadAnnouncement = {
    type: event.type,
    stage: event.stage,
    score: event.score,
    n: event.n,
    rules: Object.keys(event.rules)
      .sort((a, b) => event.rules[b]!.points - event.rules[a]!.points)
      .slice(0, 3),
  };
  // A listener that throws is reported by the browser as the page's own error; it never stops ours.
  document.dispatchEvent(new CustomEvent('leadscore:' + event.type, { detail }));
  const layer = (window as { dataLayer?: unknown }).dataLayer;
  if (dataLayer && Array.isArray(layer)) layer.push({ event: 'leadscore_' + event.type, leadscore: detail });
}
