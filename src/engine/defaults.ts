import type { Rule, Stage } from '../types';

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
  return [
    { id: 'page_view', signal: 'page_view', points: 1, max: 5, per: 'session' },
    { id: 'high_value_page', signal: 'page_view', points: 12, match: { path: [...highValuePaths] }, max: 2, per: 'session' },
    { id: 'view_item', signal: 'view_item', points: 8, max: 3, per: 'session' },
    { id: 'repeat_visit', signal: 'repeat_visit', points: 10, max: 1, per: 'day' },
    { id: 'engaged_time', signal: 'engaged_time', points: 1, match: { seconds: { gte: 15 } }, max: 10, per: 'session' },
    { id: 'add_to_cart', signal: 'add_to_cart', points: 20, max: 2, per: 'session' },
    { id: 'remove_from_cart', signal: 'remove_from_cart', points: -10, max: 2, per: 'session' },
    { id: 'view_cart', signal: 'view_cart', points: 3, max: 2, per: 'session' },
    { id: 'view_item_list', signal: 'view_item_list', points: 2, max: 3, per: 'session' },
    { id: 'search', signal: 'search', points: 3, max: 2, per: 'session' },
    { id: 'add_to_wishlist', signal: 'add_to_wishlist', points: 6, max: 2, per: 'session' },
    { id: 'begin_checkout', signal: 'begin_checkout', points: 25, max: 1, per: 'session' },
    { id: 'purchase', signal: 'purchase', points: 30, max: 1, per: 'day' },
    { id: 'sign_up', signal: 'sign_up', points: 20, max: 1 },
    { id: 'generate_lead', signal: 'generate_lead', points: 30, max: 1, per: 'day' },
    { id: 'form_submit', signal: 'form_submit', points: 5, max: 2, per: 'session' },
    { id: 'file_download', signal: 'file_download', points: 5, max: 3, per: 'session' },
    { id: 'ad_click', signal: 'ad_click', points: 5, max: 1, per: 'session' },
  ];
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

