import type { Rule, RulePeriod, Stage } from '../types';

/** Paths that show buying intent on most stores; `data-high-value` replaces them. */
export const DEFAULT_HIGH_VALUE_PATHS: readonly string[] = [
  '**/cart',
  '**/cart/**',
  '**/basket',
  '**/checkout',
  '**/checkout/**',
  '**/pricing',
  '**/pricing/**',
  '**/contact',
  '**/contact-us',
  '**/contact/**',
  '**/demo',
  '**/demo/**',
  '**/quote',
  '**/request-a-quote',
  '**/quote/**',
];

export const DEFAULT_STAGES: readonly Stage[] = [{ name: 'mql', threshold: 50 }];

/**
 * The default ecommerce model (README "Scoring model" has the worked example).
 * Calibrated so that one page view, with everything that can happen on it, stays far below 50,
 * while a returning visitor who views a product and a high-value page and adds to cart reaches 50.
 */
export function defaultRules(highValuePaths: readonly string[] = DEFAULT_HIGH_VALUE_PATHS): Rule[] {
  // [id (= signal), points, max, per]: a table, because 18 object literals repeating five keys
  // cost the snippet bytes that do not compress away.
  const table: [string, number, number, RulePeriod?][] = [
    ['page_view', 1, 5, 'session'],
    ['view_item', 8, 3, 'session'],
    ['repeat_visit', 10, 1, 'day'],
    ['add_to_cart', 20, 2, 'session'],
    ['remove_from_cart', -10, 2, 'session'],
    ['view_cart', 3, 2, 'session'],
    ['view_item_list', 2, 3, 'session'],
    ['search', 3, 2, 'session'],
    ['add_to_wishlist', 6, 2, 'session'],
    ['begin_checkout', 25, 1, 'session'],
    ['purchase', 30, 1, 'day'],
    ['sign_up', 20, 1],
    ['generate_lead', 30, 1, 'day'],
    ['form_submit', 5, 2, 'session'],
    ['file_download', 5, 3, 'session'],
    ['ad_click', 5, 1, 'session'],
  ];
  const rules: Rule[] = table.map(([id, points, max, per]) => (per ? { id, signal: id, points, max, per } : { id, signal: id, points, max }));
  rules.splice(1, 0, { id: 'high_value_page', signal: 'page_view', points: 12, match: { path: [...highValuePaths] }, max: 2, per: 'session' });
  rules.splice(4, 0, { id: 'engaged_time', signal: 'engaged_time', points: 1, match: { seconds: { gte: 15 } }, max: 10, per: 'session' });
  return rules;
}

/** Signal names the library emits itself (GA4 recommended names where one exists). */
export const KNOWN_SIGNALS: readonly string[] = [
  'page_view',
  'view_item',
  'add_to_cart',
  'remove_from_cart',
  'view_cart',
  'view_item_list',
  'search',
  'begin_checkout',
  'purchase',
  'add_to_wishlist',
  'sign_up',
  'generate_lead',
  'file_download',
  'form_submit',
  'session_start',
  'repeat_visit',
  'engaged_time',
  'ad_click',
];

/** Query parameters kept in URLs: attribution only. Everything else (emails, tokens, search terms) is stripped. */
export const DEFAULT_URL_PARAMS: readonly string[] = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
];

