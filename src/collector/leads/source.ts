/**
 * Where a lead came from, from its first-visit attribution (click ids, utm_* and the referrer's
 * origin, as the browser recorded them). Pure. The rules, in order:
 * 1. a paid click id: Google/Microsoft ads (gclid, gbraid, wbraid, dclid, msclkid) are paid search,
 *    Meta/TikTok/LinkedIn (fbclid, ttclid, li_fat_id) paid social;
 * 2. utm_medium: cpc/ppc/paid search/sem is paid search (paid social when the source is a social
 *    network), paid social/social ads is paid social, email/newsletter is email, social is organic
 *    social, affiliate is affiliate, display/banner/cpm is display;
 * 3. the referrer: a webmail client is email, a search engine organic search, a social network
 *    organic social, any other site referral;
 * 4. nothing: direct.
 */
export type Source = 'paid_search' | 'paid_social' | 'display' | 'email' | 'affiliate' | 'organic_search' | 'organic_social' | 'referral' | 'direct';

export const SOURCES: readonly Source[] = ['paid_search', 'paid_social', 'display', 'email', 'affiliate', 'organic_search', 'organic_social', 'referral', 'direct'];

export interface SourceInfo {
  source: Source;
  /** utm_campaign when given. */
  campaign?: string;
  /** The network or site: utm_source, else the referrer's host. */
  via?: string;
}

const SEARCH = /(^|\.)(google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|qwant|startpage|search\.brave|naver|seznam)\.[a-z.]+$/i;
const SOCIAL = /(^|\.)(facebook|fb|instagram|t\.co|twitter|x|linkedin|lnkd|pinterest|tiktok|reddit|youtube|threads|snapchat|tumblr|vk|whatsapp)\.[a-z.]+$|^t\.co$|^x\.com$/i;
const MAIL = /(^|\.)(mail\.google|outlook\.live|mail\.yahoo|mail\.proton|gmx|web\.de)\.[a-z.]+$|^mail\./i;
const SOCIAL_SOURCE = /^(facebook|fb|meta|instagram|ig|twitter|x|linkedin|pinterest|tiktok|reddit|youtube|snapchat)$/i;

const host = (origin: string | undefined): string | undefined => {
  if (!origin) return undefined;
  try {
    return new URL(origin).hostname.toLowerCase();
  } catch {
    return undefined;
  }
};

export function classifySource(attribution: Record<string, string>): SourceInfo {
  const own = (key: string): string | undefined => (Object.prototype.hasOwnProperty.call(attribution, key) ? attribution[key] : undefined);
  const medium = (own('utm_medium') ?? '').toLowerCase().trim();
  const utmSource = own('utm_source')?.trim();
  const campaign = own('utm_campaign')?.trim() || undefined;
  const referrer = host(own('referrer'));
  const info = (source: Source, via = utmSource || referrer): SourceInfo => ({ source, ...(campaign ? { campaign } : {}), ...(via ? { via } : {}) });

  if (['gclid', 'gbraid', 'wbraid', 'dclid'].some((key) => own(key))) return info('paid_search', utmSource || 'google');
  if (own('msclkid')) return info('paid_search', utmSource || 'bing');
  if (own('fbclid') && /^(cpc|ppc|paid|paid[_-]?social|social[_-]?paid|cpm)$/.test(medium)) return info('paid_social', utmSource || 'facebook');
  if (own('ttclid')) return info('paid_social', utmSource || 'tiktok');
  if (own('li_fat_id')) return info('paid_social', utmSource || 'linkedin');
  if (medium) {
    if (/^(paid[_-]?social|social[_-]?(paid|ads?)|paidsocial)$/.test(medium)) return info('paid_social');
    if (/^(cpc|ppc|paid|paid[_-]?search|sem|search[_-]?ads?)$/.test(medium)) return info(utmSource && SOCIAL_SOURCE.test(utmSource) ? 'paid_social' : 'paid_search');
    if (/^(display|banner|cpm|cpv|programmatic|retargeting|remarketing)$/.test(medium)) return info('display');
    if (/^(e-?mail|newsletter|mail)$/.test(medium)) return info('email');
    if (/^(social|social[_-]?media|social[_-]?network|sm)$/.test(medium)) return info('organic_social');
    if (/^(affiliate|affiliates|partner)$/.test(medium)) return info('affiliate');
    if (medium === 'organic') return info('organic_search');
    if (medium === 'referral') return info('referral');
  }
  // fbclid without a paid medium: Meta adds it to organic shares too.
  if (own('fbclid')) return info('organic_social', utmSource || referrer || 'facebook');
  if (referrer) {
    // Webmail first: mail.google.com is not a search.
    if (MAIL.test(referrer)) return info('email');
    if (SEARCH.test(referrer)) return info('organic_search');
    if (SOCIAL.test(referrer)) return info('organic_social');
    return info('referral');
  }
  if (utmSource) return info(SOCIAL_SOURCE.test(utmSource) ? 'organic_social' : 'referral');
  return info('direct');
}
