import { guard } from '../util/guard';
import type { Props } from '../types';
import { closestControl, controlText, declaredProps, fieldValue, isDisabled, linkUrl, listen, toNumber } from './dom';
import { CART_PATH } from './page';
import type { ActionMerger, Trace } from './merge';

/** English plus the most common storefront locales; wording the plain-store fallback accepts as a cart add. */
const ADD_TEXT =
  /\b(add(ing)? to (the )?(shopping )?(cart|bag|basket|trolley)|in den warenkorb|ajouter au panier|añadir al carrito|aggiungi al carrello|in winkelwagen)\b/;
/** Controls that mention the cart but are not cart adds. */
const NOT_CART = /wish ?list|compare|favou?rite|registry|notify|save for later|remove/;
const CHECKOUT_TEXT = /^(proceed to |go to |secure )?check ?out\b/;
const WISHLIST = /wish ?list/;
const DOCUMENT = /\.(pdf|docx?|xlsx?|pptx?|csv|zip|rar|7z|txt|rtf|odt|ods|odp|epub|dmg|exe|msi|apk)$/i;

/** Platform add-to-cart forms (storefronts.md): Shopify, Magento, BigCommerce, WooCommerce classic, PrestaShop. */
const CART_FORM =
  'form[action*="/cart/add"],form[data-type="add-to-cart-form"],form[action*="/checkout/cart/add"],form[data-role=tocart-form],form[data-cart-item-add],form#add-to-cart-or-refresh';
/** Platform add-to-cart controls that are not submit buttons of such a form. */
const CART_CONTROL =
  '.ajax_add_to_cart,a.add_to_cart_button,[data-button-action="add-to-cart"],[data-button-type="add-cart"],a[href*="cart.php?action=add"],a[href*="add-to-cart="]';
/** Look like cart buttons but open a product page or a picker. */
const NOT_CART_CONTROL = '.product_type_variable,.product_type_grouped,.product_type_external,[name=plus],[name=minus]';
/**
 * Checkout starts, including Shopify's dynamic checkout: "Buy it now" (`.shopify-payment-button`) and
 * the accelerated checkout buttons (custom elements whose clicks come from their shadow roots; the
 * wallets drawn in cross-origin frames cannot be seen).
 */
const CHECKOUT_CONTROL =
  '[name=checkout],.checkout-button,[data-role=proceed-to-checkout],a[href*="/checkout"],.shopify-payment-button__button,shopify-buy-it-now-button,shopify-accelerated-checkout,shopify-accelerated-checkout-cart';
/**
 * Cart line removals: Shopify Dawn (`cart-remove-button`, whose link is `/cart/change?…quantity=0`),
 * WooCommerce cart and mini cart, BigCommerce Cornerstone, Magento cart and mini cart, PrestaShop classic.
 */
const REMOVE_CONTROL =
  'cart-remove-button *,a[href*="/cart/change"][href*="quantity=0"],.remove_from_cart_button,a.remove[href*="remove_item="],.cart-remove,.action-delete,.minicart-items .action.delete,[data-link-action=delete-from-cart]';
// Spelled out instead of the `i` attribute flag, which some engines (and happy-dom) reject.
const WISHLIST_CONTROL = '.add_to_wishlist,[data-action="add-to-wishlist"],[class*=wishlist],[class*=Wishlist]';

const isCartForm = (form: HTMLFormElement): boolean =>
  form.matches(CART_FORM) || (form.matches('form.cart') && !!form.querySelector('[name="add-to-cart"]'));

function cartFormProps(form: HTMLFormElement): Props {
  const props: Props = {};
  const item = fieldValue(form, ['product-id', 'add-to-cart', 'product', 'product_id', 'id_product']) ?? form.getAttribute('data-product-sku');
  const variant = fieldValue(form, ['id', 'variation_id', 'selected_configurable_option', 'id_product_attribute']);
  const quantity = toNumber(fieldValue(form, ['quantity', 'qty', 'qty[]']));
  if (item) props.item_id = item;
  if (variant) props.variant = variant;
  if (quantity !== undefined) props.quantity = quantity;
  return props;
}

function controlProps(control: HTMLElement): Props {
  const props: Props = {};
  const url = linkUrl(control);
  const item =
    control.getAttribute('data-product_id') ??
    control.getAttribute('data-entity-id') ??
    url?.searchParams.get('add-to-cart') ??
    url?.searchParams.get('product_id');
  const sku = control.getAttribute('data-product_sku');
  const quantity = toNumber(control.getAttribute('data-quantity'));
  // The product card the control is on (BigCommerce `data-name`; a card's title elsewhere).
  const card = control.closest(CARD);
  const name = card?.getAttribute('data-name') ?? card?.querySelector(CARD_TITLE)?.textContent?.trim();
  if (item) props.item_id = item;
  if (sku) props.sku = sku;
  if (name) props.name = name.slice(0, 100);
  if (quantity !== undefined) props.quantity = quantity;
  return props;
}

/** Product cards in lists: BigCommerce, WooCommerce, Magento, Shopify Dawn, PrestaShop. */
const CARD = '[data-name],li.product,.product-item,.card-wrapper,.product-miniature';
const CARD_TITLE = '.woocommerce-loop-product__title,.product-item-link,.card__heading,.product-title,h2,h3';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;
const SENSITIVE = 'input[type=password],[autocomplete^=cc-],[name*=card],[name*=Card],[name*=cvc],[name*=cvv],[name*=iban]';

/**
 * The email a visitor submitted, for `data-capture-email` only: the value of the form's email
 * field, and only from forms without password or payment fields. Nothing else is ever read.
 */
export function readSubmittedEmail(form: HTMLFormElement): string | null {
  if (form.querySelector(SENSITIVE)) return null;
  const field = form.querySelector('input[type=email],input[autocomplete~=email]') as HTMLInputElement | null;
  const value = field?.value.trim() ?? '';
  return EMAIL.test(value) ? value.slice(0, 254) : null;
}

/** Classifies a form by what it contains, never by what the visitor typed into it. */
export function classifyForm(form: HTMLFormElement): { signal: string; props: Props } {
  const has = (selector: string): boolean => !!form.querySelector(selector);
  const email = has('input[type=email],input[autocomplete~=email],input[name*=email],input[name*=Email]');
  const passwords = form.querySelectorAll('input[type=password]').length;
  const fields = form.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]),select,textarea').length;
  if (has('input[type=search]') || form.getAttribute('role') === 'search' || (fields === 1 && has('input[name=q],input[name=s]')))
    return { signal: 'form_submit', props: { form: 'search' } };
  if (passwords) {
    // Two password fields or more than email + password: a registration; otherwise a login.
    return passwords > 1 || fields > 3 ? { signal: 'sign_up', props: { form: 'account' } } : { signal: 'form_submit', props: { form: 'login' } };
  }
  if (email) return has('textarea') ? { signal: 'generate_lead', props: { form: 'contact' } } : { signal: 'sign_up', props: { form: 'newsletter' } };
  return { signal: 'form_submit', props: { form: 'other' } };
}

export interface InteractionOptions {
  merger: ActionMerger;
  /** With `data-capture-email`: receives the email of a submitted form (see readSubmittedEmail). */
  onEmail?: (email: string) => void;
  /** Product details of the current page (price, currency) to enrich cart adds. */
  readProduct: () => Props;
  /** Called on every interaction: lets the dataLayer hook check it is still in place. */
  onInteraction: () => void;
}

/**
 * One click and one submit listener (capture phase, passive) for every click- and form-based
 * signal: declarative markup, cart adds, checkout starts, wishlist adds, downloads and forms.
 * Whether the page prevented the default is read after the event has finished dispatching: a form
 * post or link that navigates is `done` (it will not report an outcome); one the page handles itself
 * stays an `intent` until its network request or platform event tells the outcome.
 */
export function onInteractions(options: InteractionOptions): () => void {
  const { merger } = options;

  /** `navigates`: the default action leaves the page (a form submit, a link to another document). */
  function observe(event: Event, trace: Trace, navigates: boolean): void {
    merger.observe(trace);
    if (navigates) {
      setTimeout(
        guard(() => {
          if (!event.defaultPrevented) merger.observe({ ...trace, kind: 'done' });
        }),
        0,
      );
    }
  }
  const leaves = (control: HTMLElement): boolean => {
    const url = linkUrl(control);
    return !!url && (url.origin + url.pathname + url.search !== location.origin + location.pathname + location.search);
  };

  function cartTrace(props: Props, trusted: boolean): Trace {
    const product = options.readProduct();
    // A card of another product on a product page (related products) is not the page's product.
    const other = props.item_id !== undefined && product.item_id !== undefined && props.item_id !== product.item_id;
    return { signal: 'add_to_cart', props: other ? props : { ...product, ...props }, kind: 'intent', trusted };
  }

  const onClick = (event: Event): void => {
    options.onInteraction();
    const target = event.target as Element | null;
    const declared = target instanceof Element ? target.closest('[data-leadscore-event]') : null;
    if (declared && !(declared instanceof HTMLFormElement)) {
      const signal = declared.getAttribute('data-leadscore-event')!;
      return merger.observe({ signal, props: declaredProps(declared), kind: 'confirm' });
    }
    const control = closestControl(target);
    if (!control || isDisabled(control) || control.matches(NOT_CART_CONTROL)) return;
    const url = linkUrl(control);
    if ((url && DOCUMENT.test(url.pathname)) || control.hasAttribute("download")) {
      const extension = (url?.pathname.match(/\.(\w+)$/)?.[1] ?? '').toLowerCase();
      return merger.observe({ signal: 'file_download', props: { path: url?.pathname ?? '', ext: extension }, kind: 'done' });
    }
    if (control.matches(REMOVE_CONTROL)) {
      return observe(event, { signal: 'remove_from_cart', props: controlProps(control), kind: 'intent', trusted: true }, leaves(control));
    }
    // Submit buttons of a form are handled on submit, which fires only if the form is valid.
    const form = (control as HTMLButtonElement).form;
    if (form && (control as HTMLButtonElement).type === 'submit') return;
    const text = controlText(control);
    if (control.matches(WISHLIST_CONTROL) || WISHLIST.test(text)) {
      return observe(event, { signal: 'add_to_wishlist', props: controlProps(control), kind: 'intent', trusted: true }, leaves(control));
    }
    if (control.matches(CART_CONTROL)) return observe(event, cartTrace(controlProps(control), true), leaves(control));
    // A cart link the page handles itself opens a cart drawer: the visitor looked at the cart. (One
    // that navigates leads to the cart page, which counts itself.)
    if (url && CART_PATH.test(url.pathname)) {
      return void setTimeout(guard(() => event.defaultPrevented && merger.observe({ signal: 'view_cart', props: {}, kind: 'confirm' })), 0);
    }
    if (control.matches(CHECKOUT_CONTROL) || CHECKOUT_TEXT.test(text)) {
      return observe(event, { signal: 'begin_checkout', props: {}, kind: 'intent', trusted: true }, leaves(control));
    }
    if (ADD_TEXT.test(text) && !NOT_CART.test(text)) observe(event, cartTrace(controlProps(control), false), leaves(control));
  };

  const onSubmit = (event: Event): void => {
    options.onInteraction();
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const submitter = (event as SubmitEvent).submitter ?? null;
    if (form.hasAttribute('data-leadscore-event')) {
      return merger.observe({ signal: form.getAttribute('data-leadscore-event')!, props: declaredProps(form), kind: 'confirm' });
    }
    if (isCartForm(form)) return observe(event, cartTrace(cartFormProps(form), true), true);
    const submitterText = submitter ? controlText(submitter) : '';
    if (submitter?.matches(CHECKOUT_CONTROL) || /\/checkout\b/.test(form.action) || CHECKOUT_TEXT.test(submitterText)) {
      return observe(event, { signal: 'begin_checkout', props: {}, kind: 'intent', trusted: true }, true);
    }
    if (ADD_TEXT.test(submitterText) && !NOT_CART.test(submitterText)) return observe(event, cartTrace(cartFormProps(form), false), true);
    const { signal, props } = classifyForm(form);
    if (options.onEmail && (signal === 'sign_up' || signal === 'generate_lead')) {
      const email = readSubmittedEmail(form);
      if (email) options.onEmail(email);
    }
    observe(event, { signal, props, kind: 'intent', trusted: true }, true);
  };

  const stops = [listen(document, 'click', onClick), listen(document, 'submit', onSubmit)];
  return () => stops.forEach((stop) => stop());
}
