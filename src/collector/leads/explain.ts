import type { Lead } from './lead';
import type { Source } from './source';

/**
 * "Why this lead", in plain words, from the lead's own data. Pure: the caller passes formatters in
 * the viewer's locale (numbers, money, dates), so the same facts read right on any store.
 */
export interface Formatters {
  number(value: number): string;
  money(value: number, currency: string | undefined): string;
}

const SOURCE_WORDS: Record<Source, string> = {
  paid_search: 'a paid search ad',
  paid_social: 'a paid social ad',
  display: 'a display ad',
  email: 'an email',
  affiliate: 'an affiliate',
  organic_search: 'a search engine',
  organic_social: 'social media',
  referral: 'another site',
  direct: 'a direct visit',
};

const times = (count: number, f: Formatters): string => (count === 1 ? 'once' : count === 2 ? 'twice' : `${f.number(count)} times`);

export interface ExplainInput {
  lead: Lead;
  /** The site's half-life in days (0: no decay); unknown: no sentence about decay. */
  halfLifeDays?: number;
}

/** A few short sentences, most telling first. */
export function explainLead(input: ExplainInput, f: Formatters): string[] {
  const { lead } = input;
  const signals = lead.signals ?? {};
  const count = (name: string): number => (Object.prototype.hasOwnProperty.call(signals, name) ? signals[name]! : 0);
  const sentences: string[] = [];
  const visits = lead.visits ?? 0;
  const first: string[] = [];
  if (visits > 1) first.push(`Came back ${times(visits - 1, f)}`);
  const viewed = lead.interest.items.filter((item) => item.views > 0).length;
  const category = lead.interest.categories[0];
  if (viewed) first.push(`viewed ${viewed === 1 ? 'a product' : `${f.number(viewed)} products`}${category ? ` in ${category}` : ''}`);
  const cart = lead.interest.cart;
  if (cart && cart.value > 0) first.push(`has ${f.money(cart.value, cart.currency)} in the cart`);
  else if (count('add_to_cart')) first.push(`added to the cart ${times(count('add_to_cart'), f)}`);
  if (count('begin_checkout')) first.push('started checkout');
  if (first.length) sentences.push(capitalize(joinWords(first)) + '.');
  if (lead.orders) sentences.push(`Bought ${times(lead.orders, f)}${lead.revenue ? ` (${f.money(lead.revenue, lead.currency ?? undefined)})` : ''}.`);
  if (count('search')) sentences.push(`Searched the store ${times(count('search'), f)}.`);
  if (lead.email) sentences.push('Gave an email address.');
  sentences.push(`Came from ${SOURCE_WORDS[lead.source]}${lead.campaign ? ` (campaign ${lead.campaign})` : ''}.`);
  if (input.halfLifeDays) sentences.push(`Points halve every ${f.number(input.halfLifeDays)} days, so the score falls unless the visitor comes back.`);
  if (lead.bot) sentences.push('The browser looked automated: kept, but not forwarded.');
  if (lead.suspicious) sentences.push(`Flagged: ${lead.flags.join('; ')}.`);
  return sentences;
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
function joinWords(parts: string[]): string {
  return parts.length < 2 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
