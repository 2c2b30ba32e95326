import type { Props } from '../types';
import { toNumber, toText } from './dom';
import type { ActionMerger } from './merge';

type Json = Record<string, unknown>;

/** Finds a schema.org node of `kind` in the page's JSON-LD (top level, arrays and `@graph`). */
function findNode(value: unknown, kind: string, depth = 0): Json | null {
  if (!value || typeof value !== 'object' || depth > 4) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findNode(item, kind, depth + 1);
      if (found) return found;
    }
    return null;
  }
  const node = value as Json;
  const type = node['@type'];
  if (type === kind || (Array.isArray(type) && type.includes(kind))) return node;
  return findNode(node['@graph'], kind, depth + 1);
}

/** The last level of a category path ("Home > Kitchen > Mugs" is "Mugs"). */
const lastLevel = (value: unknown): string | undefined => toText(value)?.split(/\s*[>/|]\s*/).pop() || undefined;


/**
 * The current page's product, if it is a product page: JSON-LD `Product`, Shopify's
 * `ShopifyAnalytics.meta`, or platform page markers (WooCommerce, Magento, BigCommerce, PrestaShop,
 * `og:type`). Null on other pages.
 */
export function readProduct(): Props | null {
  const props: Props = {};
  const nodes: unknown[] = [];
  for (const script of Array.from(document.querySelectorAll('script[type="application/ld+json"]')).slice(0, 10)) {
    try {
      nodes.push(JSON.parse(script.textContent ?? ''));
    } catch {
      // A page's broken JSON-LD is its own business.
    }
  }
  const product = findNode(nodes, 'Product');
  // The category a product page says it is in: its own, else the breadcrumb before the product.
  const crumbs = findNode(nodes, 'BreadcrumbList')?.itemListElement as Json[] | undefined;
  const crumb = Array.isArray(crumbs) ? (crumbs[crumbs.length - 2] as Json | undefined) : undefined;
  const category = lastLevel(product?.category) ?? toText(crumb?.name ?? (crumb?.item as Json | undefined)?.name);
  if (category) props.category = category;
  if (product) {
    const offers = (Array.isArray(product.offers) ? product.offers[0] : product.offers) as Json | undefined;
    const id = toText(product.sku ?? product.productID ?? product.mpn);
    const name = toText(product.name);
    const price = toNumber(offers?.price ?? offers?.lowPrice);
    const currency = toText(offers?.priceCurrency);
    if (id) props.item_id = id;
    if (name) props.name = name;
    if (price !== undefined) props.price = price;
    if (currency) props.currency = currency;
    return props;
  }
  const meta = (window as unknown as { ShopifyAnalytics?: { meta?: { product?: { id?: unknown }; page?: { pageType?: string }; currency?: unknown } } })
    .ShopifyAnalytics?.meta;
  if (meta?.product || meta?.page?.pageType === 'product') {
    const id = toText(meta.product?.id);
    if (id) props.item_id = id;
    const currency = toText(meta.currency);
    if (currency) props.currency = currency;
    return props;
  }
  const marker = document.querySelector(
    'body.single-product,body.catalog-product-view,body#product,.productView[data-entity-id],meta[property="og:type"][content="product"]',
  );
  if (!marker) return null;
  const id = marker.getAttribute('data-entity-id') ?? document.querySelector('[data-product-sku]')?.getAttribute('data-product-sku');
  // BigCommerce says it in attributes; elsewhere the page's heading is the product's name.
  const name = marker.getAttribute('data-name') ?? document.querySelector('h1')?.textContent?.trim();
  const markedCategory = lastLevel(marker.getAttribute('data-product-category'));
  if (id) props.item_id = id.slice(0, 100);
  if (name) props.name = name.slice(0, 100);
  if (markedCategory) props.category = markedCategory;
  return props;
}

/** Click ids of the ad networks (Google, Meta, Microsoft, TikTok) and paid `utm_medium` values. */
const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'ttclid', 'li_fat_id'];
const PAID_MEDIUM = /^(cpc|ppc|cpm|cpv|paid|paid[_-]?(search|social|media)|display|banner|retargeting|remarketing|sem)$/i;

/** `ad_click` props when this URL is an ad landing, else null. */
export function readAdClick(url: URL): Props | null {
  const params = url.searchParams;
  const clickId = CLICK_IDS.find((name) => params.has(name));
  const medium = params.get('utm_medium') ?? '';
  if (!clickId && !PAID_MEDIUM.test(medium)) return null;
  const props: Props = { source: clickId ?? (params.get('utm_source') ?? 'utm').slice(0, 100) };
  if (medium) props.medium = medium.slice(0, 100);
  return props;
}

/** Order confirmation pages: Shopify, WooCommerce, Magento, BigCommerce, PrestaShop. */
const THANK_YOU = /\/(checkouts?\/[^/]+\/thank[_-]you|thank[_-]you|order-received|checkout\/onepage\/success|order-confirmation|checkout\/order-confirmation)(\/|$)/i;

/**
 * Cart pages: Shopify and PrestaShop `/cart`, WooCommerce `/cart/`, Magento `/checkout/cart/`,
 * BigCommerce `/cart.php`, and `/basket` or `/bag` elsewhere (locale prefixes allowed).
 */
export const CART_PATH = /\/(cart|basket|bag)(\.php)?\/?$/i;
/** Body markers of cart pages where the path says nothing: WooCommerce, PrestaShop (`controller=cart`). */
const CART_PAGE = 'body.woocommerce-cart,body#cart';
/**
 * Product list pages: body markers of WooCommerce (category, shop), Magento, PrestaShop; Shopify's
 * `/collections/<handle>` is read from the path.
 */
const LIST_PAGE = 'body.tax-product_cat,body.post-type-archive-product,body.catalog-category-view,body#category';
const COLLECTION_PATH = /\/collections\/([^/]+)\/?$/;
/** Search result pages: `q` (Shopify, Magento) on a search path, `s` (WordPress), `search_query` (PrestaShop, BigCommerce). */
function readSearch(url: URL): string | null {
  const params = url.searchParams;
  return (/search/i.test(url.pathname) ? params.get('q') : null) ?? params.get('s') ?? params.get('search_query');
}

/**
 * What a page view says by itself: a product page (`view_item`), a cart page (`view_cart`), a
 * product list (`view_item_list`, with its name), search results (`search`; the term is dropped
 * unless the site opts in), an ad landing (`ad_click`), an order confirmation (`purchase`). Called
 * on load and after each SPA navigation.
 */
export function observePage(merger: ActionMerger, url: URL): void {
  const product = readProduct();
  if (product) merger.observe({ signal: 'view_item', props: product, kind: 'confirm' });
  if (CART_PATH.test(url.pathname) || document.querySelector(CART_PAGE)) merger.observe({ signal: 'view_cart', props: {}, kind: 'confirm' });
  const term = readSearch(url);
  if (term !== null) merger.observe({ signal: 'search', props: { term: term.slice(0, 100) }, kind: 'confirm' });
  else if (!product) {
    const collection = url.pathname.match(COLLECTION_PATH)?.[1];
    const list = collection ?? (document.querySelector(LIST_PAGE) ? toText(document.querySelector('h1')?.textContent?.trim()) : undefined);
    if (list) merger.observe({ signal: 'view_item_list', props: { list }, kind: 'confirm' });
  }
  const ad = readAdClick(url);
  if (ad) merger.observe({ signal: 'ad_click', props: ad, kind: 'confirm' });
  if (THANK_YOU.test(url.pathname)) merger.observe({ signal: 'purchase', props: readOrder(url), kind: 'confirm' });
}

/**
 * What an order confirmation page says about the order: Shopify's `Shopify.checkout` (order id,
 * total, currency), WooCommerce's order number in the path. A dataLayer `purchase` says more.
 */
function readOrder(url: URL): Props {
  const checkout = (window as unknown as { Shopify?: { checkout?: Json } }).Shopify?.checkout;
  const props: Props = {};
  const id = toText(checkout?.order_id) ?? url.pathname.match(/order-received\/(\d+)/)?.[1];
  const value = toNumber(checkout?.total_price);
  const currency = toText(checkout?.currency);
  if (id) props.transaction_id = id;
  if (value !== undefined) props.value = value;
  if (currency) props.currency = currency;
  return props;
}

/**
 * The error notices a store shows when it refuses an add that was posted with a navigation:
 * WooCommerce classic and Blocks, Magento, PrestaShop classic, BigCommerce Cornerstone.
 */
const STORE_ERROR = '.woocommerce-error,.wc-block-components-notice-banner.is-error,.message-error,#notifications .alert-danger,.alertBox--error';

/**
 * Whether this page reports that the store refused the visitor's last cart add. Shopify renders a
 * refused classic post at `/cart/add` itself (an accepted one redirects to `/cart`); Magento queues
 * its messages in the `mage-messages` cookie and renders them later, so the cookie is read too
 * (read only, for this one test).
 */
export function readStoreError(): boolean {
  try {
    // The cookie is read last, only when the page itself shows nothing.
    return /\/cart\/add(\.js)?\/?$/.test(location.pathname) || !!document.querySelector(STORE_ERROR) || /(^|;\s*)mage-messages=[^;]*%22error%22/i.test(document.cookie);
  } catch {
    return false; // Sandboxed documents throw on cookie access.
  }
}
