import type { ScoringModel } from '../../types';
import type { LeadEvent } from '../../receiver/parse';

const DAY_MS = 86_400_000;

/**
 * Whether an event adds up under the site's own scoring model (the browser's config parser built
 * it from the site's settings: config.ts). Returns the reasons it does not, for the lead's flags;
 * an implausible event is stored and flagged, never trusted and never dropped. Pure.
 *
 * - every rule in the explanation is one of the site's rules;
 * - no rule counted more often than its cap allows over the visitor's sessions and days;
 * - no rule has more points than its points × count (decay only shrinks them);
 * - the rules' points add up to the score (never below 0);
 * - the stage is one of the site's, with its threshold.
 */
export function checkPlausibility(event: LeadEvent, model: ScoringModel): string[] {
  const reasons: string[] = [];
  const rules = new Map(model.rules.map((rule) => [rule.id, rule]));
  let sum = 0;
  for (const id of Object.keys(event.rules)) {
    const tally = event.rules[id]!;
    sum += tally.points;
    const rule = rules.get(id);
    if (!rule) {
      reasons.push(`unknown rule "${id}"`);
      continue;
    }
    if (rule.max !== undefined) {
      const days = Math.max(1, Math.ceil((event.at - event.firstSeen) / DAY_MS) + 1);
      const periods = rule.per === 'session' ? Math.max(1, event.visits) : rule.per === 'day' ? days : 1;
      if (!rule.windowDays && tally.count > rule.max * periods) reasons.push(`rule "${id}" counted ${tally.count} times, over its cap`);
    }
    const ceiling = Math.abs(rule.points) * tally.count + 0.01;
    if (Math.abs(tally.points) > ceiling) reasons.push(`rule "${id}" has more points than it can give`);
  }
  // Each rule's points and the score are rounded to two decimals on the way: allow for that.
  const slack = 0.01 + 0.005 * Object.keys(event.rules).length + event.score * 0.001;
  if (Math.abs(Math.max(0, sum) - event.score) > slack) reasons.push('the rules do not add up to the score');
  const stage = model.stages.find((candidate) => candidate.name === event.stage);
  if (!stage) reasons.push(`unknown stage "${event.stage}"`);
  else if (stage.threshold !== event.threshold) reasons.push(`stage "${event.stage}" has threshold ${stage.threshold}, not ${event.threshold}`);
  if ((event.type === 'qualified' || event.type === 'stage') && event.score < event.threshold) reasons.push('the score is below the threshold');
  return reasons;
}
