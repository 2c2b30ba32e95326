import { ERROR_RECORDER } from './harness.mjs';

// Storefront pages that behave like each platform in shared/research/storefronts.md: the same
// markup, the same requests, the same events. Each page installs the snippet from a script tag.

const SNIPPET = `<script>window.leadscore = window.leadscore || function () { (leadscore.q = leadscore.q || []).push(arguments) };</script>
<script async src="/dist/leadscore.js" data-allow-automation></script>`;
const JQUERY = '<script src="/node_modules/jquery/dist/jquery.min.js"></script>';

const page = (title, body, head = '') => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${ERROR_RECORDER}${head}${SNIPPET}</head><body>${body}</body></html>`;

export const pages = {
  // Shopify Dawn: <product-form> intercepts submit and POSTs FormData to /cart/add with JSON accept.
  '/shopify/products/mug': page(
    'Shopify mug',
    `<product-form><form method="post" action="/cart/add" accept-charset="UTF-8" enctype="multipart/form-data" data-type="add-to-cart-form" id="product-form-main">
       <input type="hidden" name="form_type" value="product"><input type="hidden" name="id" value="4001" class="product-variant-id">
       <button type="submit" name="add" id="ProductSubmitButton-main" class="product-form__submit">Add to cart</button>
     </form></product-form>
     <input class="quantity__input" name="quantity" value="1" form="product-form-main">
     <button type="button" name="plus" class="quantity__button">+</button>
     <form method="post" action="/cart/add" id="soldout-form"><input type="hidden" name="id" value="9999"><button type="submit" id="soldout">Add to cart</button></form>
     <button type="button" class="quick-add__submit" data-product-url="/products/other">Choose options</button>
     <p>Click "Add to cart" to buy this mug.</p>
     <div id="cart-notification" hidden>Item added to your cart</div>
     <div class="shopify-payment-button"><button type="button" class="shopify-payment-button__button shopify-payment-button__button--unbranded">Buy it now</button></div>
     <shopify-accelerated-checkout recommended="shop_pay"></shopify-accelerated-checkout>
     <script>
       // The dynamic checkout buttons send the visitor to checkout; the accelerated one draws its button in a shadow root.
       document.querySelector('.shopify-payment-button__button').addEventListener('click', () => (location.href = '/empty?checkout=1'));
       const accelerated = document.querySelector('shopify-accelerated-checkout').attachShadow({ mode: 'open' });
       accelerated.innerHTML = '<button type="button">Buy with Shop</button>';
       accelerated.querySelector('button').addEventListener('click', () => (location.href = '/empty?checkout=2'));
       window.ShopifyAnalytics = { meta: { product: { id: 7001 }, page: { pageType: 'product' }, currency: 'EUR' } };
       for (const form of document.querySelectorAll('form[action="/cart/add"]')) {
         form.addEventListener('submit', async (event) => {
           event.preventDefault();
           const response = await fetch('/cart/add', { method: 'POST', headers: { Accept: 'application/javascript', 'X-Requested-With': 'XMLHttpRequest' }, body: new FormData(form) });
           document.querySelector('#cart-notification').hidden = !response.ok;
           window.lastStatus = response.status;
         });
       }
     </script>`,
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","sku":"MUG-BLUE","offers":{"@type":"Offer","price":"24.00","priceCurrency":"EUR"}}</script>',
  ),
  // Shopify without the theme's JavaScript: the product form posts to /cart/add and the browser navigates.
  '/shopify/classic': page(
    'Shopify classic',
    `<form method="post" action="/cart/add" id="ok"><input type="hidden" name="id" value="4001"><button type="submit">Add to cart</button></form>
     <form method="post" action="/cart/add" id="refused"><input type="hidden" name="id" value="9999"><button type="submit">Add to cart</button></form>`,
  ),
  '/shopify/cart': page(
    'Your cart',
    `<h1>Your cart</h1>
     <cart-remove-button><a href="/cart/change?line=1&amp;quantity=0" class="button button--tertiary" aria-label="Remove Mug">🗑</a></cart-remove-button>
     <script>
       // Dawn: the remove link is handled in place with a POST to /cart/change (quantity 0).
       document.querySelector('cart-remove-button a')?.addEventListener('click', (event) => {
         event.preventDefault();
         fetch('/cart/change', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ line: 1, quantity: 0 }) }).then(() => (window.removed = true));
       });
     </script>`,
  ),
  '/collections/mugs': page('Mugs', '<h1>Mugs</h1><a href="/shopify/products/mug">Mug</a>'),
  '/search': page('Search', '<h1>Results</h1>'),
  // WooCommerce archive: jQuery add-to-cart.js behaviour, plus a block button that fires both events.
  '/woo/shop': page(
    'Woo shop',
    `<ul class="products">
       <li><a href="?add-to-cart=15" data-quantity="1" class="button product_type_simple add_to_cart_button ajax_add_to_cart" data-product_id="15" data-product_sku="MUG-15" aria-label="Add to cart: “Mug”" rel="nofollow">Add to cart</a></li>
       <li><a href="?add-to-cart=18" data-quantity="1" class="button product_type_simple add_to_cart_button ajax_add_to_cart" data-product_id="18" id="soldout" rel="nofollow">Add to cart</a></li>
       <li><a href="/woo/product/variable" class="button product_type_variable add_to_cart_button" data-product_id="16">Select options</a></li>
       <li><a href="#" class="add_to_wishlist" data-product-id="15">Add to wishlist</a></li>
       <li><div class="wp-block-button wc-block-components-product-button"><button class="wc-block-components-product-button__button add_to_cart_button ajax_add_to_cart product_type_simple wc-interactive" data-product_id="17">Add to cart</button></div></li>
     </ul>
     ${JQUERY}
     <script>
       jQuery(document.body).on('click', '.add_to_cart_button:not(.wc-interactive)', function (event) {
         const $button = jQuery(this);
         if (!$button.is('.ajax_add_to_cart') || !$button.attr('data-product_id')) return;
         event.preventDefault();
         jQuery.ajax({ type: 'POST', url: '/?wc-ajax=add_to_cart', data: { product_id: $button.attr('data-product_id'), quantity: 1 }, dataType: 'json',
           success: (response) => {
             // add-to-cart.js: a refused add answers 200 with { error, product_url } and goes to the product page.
             if (response.error && response.product_url) return void (window.location = response.product_url);
             $button.addClass('added').after('<a href="/woo/cart" class="added_to_cart wc-forward">View cart</a>');
             jQuery(document.body).trigger('added_to_cart', [response.fragments, response.cart_hash, $button]);
           } });
       });
       document.querySelector('.wc-interactive').addEventListener('click', async (event) => {
         event.preventDefault();
         await fetch('/wp-json/wc/store/v1/batch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ requests: [{ method: 'POST', path: '/wc/store/v1/cart/add-item', body: { id: 17, quantity: 1 } }] }) });
         document.body.dispatchEvent(new CustomEvent('wc-blocks_added_to_cart', { bubbles: true, cancelable: true }));
         jQuery(document.body).trigger('added_to_cart', [{}, '', jQuery(event.target)]);
       });
       document.querySelector('.add_to_wishlist').addEventListener('click', (event) => event.preventDefault());
     </script>`,
  ),
  // WooCommerce classic single product: a full form POST; the next page shows the notice.
  '/woo/product/mug': (req, url) =>
    page(
      'Woo mug',
      `${url.searchParams.has('added') ? '<div class="woocommerce-notices-wrapper"><div class="woocommerce-message" role="alert">“Mug” has been added to your cart.</div></div>' : ''}
       <form class="cart" action="/woo/product/mug" method="post" enctype="multipart/form-data">
         <div class="quantity"><input type="number" class="input-text qty text" name="quantity" value="1"></div>
         <button type="submit" name="add-to-cart" value="15" class="single_add_to_cart_button button alt">Add to cart</button>
       </form>`,
      '',
    ).replace('<body>', '<body class="woocommerce single-product">'),
  // WooCommerce classic single product that is out of stock: the post comes back with the error notice.
  '/woo/product/soldout': (req, url) =>
    page(
      'Woo sold out',
      `${url.searchParams.has('error') ? '<div class="woocommerce-notices-wrapper"><ul class="woocommerce-error" role="alert"><li>You cannot add that amount to the cart: we have 0 in stock.</li></ul></div>' : ''}
       <form class="cart" action="/woo/product/soldout" method="post" enctype="multipart/form-data">
         <button type="submit" name="add-to-cart" value="18" class="single_add_to_cart_button button alt">Add to cart</button>
       </form>`,
    ).replace('<body>', '<body class="woocommerce single-product">'),
  // Magento 2 Luma: jQuery arrives late (RequireJS); the widget POSTs and triggers ajax:addToCart.
  '/magento/mug.html': (req, url) => page(
    'Magento mug',
    `<form data-product-sku="MUG-M" action="/checkout/cart/add/uenc/aHR0cA,,/product/5/" method="post" id="product_addtocart_form">
       <input type="hidden" name="product" value="5"><input type="hidden" name="form_key" value="k">
       <input type="number" name="qty" id="qty" value="${url.searchParams.has('soldout') ? 0 : 1}" class="input-text qty">
       <button type="submit" title="Add to Cart" class="action primary tocart" id="product-addtocart-button"><span>Add to Cart</span></button>
     </form>
     <a href="#" data-action="add-to-wishlist" class="action towishlist">Add to Wish List</a>
     <script>
       setTimeout(() => {
         const script = document.createElement('script');
         script.src = '/node_modules/jquery/dist/jquery.min.js';
         script.onload = () => {
           const $ = window.jQuery;
           $('#product_addtocart_form').on('submit', function (event) {
             event.preventDefault();
             $.ajax({ url: this.action, type: 'post', data: new FormData(this), dataType: 'json', processData: false, contentType: false,
               success: (res) => {
                 $(document).trigger('ajax:addToCart', { sku: 'MUG-M', productIds: ['5'], form: $(this), response: res });
                 if (res.backUrl) window.location.assign(res.backUrl);
               } });
           });
           window.magentoReady = true;
         };
         document.head.appendChild(script);
       }, 300);
     </script>
     ${url.searchParams.has('error') ? '<div class="messages"><div class="message-error error message"><div>The requested qty is not available</div></div></div>' : ''}`,
  ).replace('<body>', '<body class="catalog-product-view">'),
  // BigCommerce Cornerstone: stencil-utils POSTs FormData to /remote/v1/cart/add; card links navigate.
  '/bigcommerce/mug': page(
    'BigCommerce mug',
    `<div class="productView" data-event-type="product" data-entity-id="88" data-name="Mug" data-product-price="24">
       <form class="form" method="post" action="/cart.php" enctype="multipart/form-data" data-cart-item-add>
         <input type="hidden" name="action" value="add"><input type="hidden" name="product_id" value="88">
         <input class="form-input--incrementTotal" id="qty[]" name="qty[]" type="tel" value="1">
         <input id="form-action-addToCart" data-wait-message="Adding to cart…" class="button button--primary" type="submit" value="Add to Cart">
       </form>
     </div>
     <article class="card" data-entity-id="89"><a href="/cart.php?action=add&product_id=89" data-event-type="product-click" data-button-type="add-cart" class="button">Add to Cart</a></article>
     ${JQUERY}
     <script>
       // Cornerstone exposes jQuery as window.$ only; an accepted add updates the cart counter.
       window.$ = jQuery.noConflict(true);
       document.querySelector('form[data-cart-item-add]').addEventListener('submit', async (event) => {
         event.preventDefault();
         const response = await fetch('/remote/v1/cart/add', { method: 'POST', headers: { 'x-requested-with': 'stencil-utils' }, body: new FormData(event.target) });
         const { data } = await response.json();
         if (!data.error) $('body').trigger('cart-quantity-update', 1);
       });
     </script>`,
  ),
  // PrestaShop classic: core cart.js posts the form and emits updateCart through window.prestashop.
  '/prestashop/mug': page(
    'PrestaShop mug',
    `<form action="/prestashop/cart" method="post" id="add-to-cart-or-refresh">
       <input type="hidden" name="id_product" value="3" id="product_page_product_id">
       <input type="number" name="qty" id="quantity_wanted" value="1">
       <button class="btn btn-primary add-to-cart" data-button-action="add-to-cart" type="submit">Add to cart</button>
     </form>
     <button type="button" id="remove" class="remove-from-cart">Remove</button>
     <script>
       const listeners = {};
       window.prestashop = { on: (name, fn) => (listeners[name] ||= []).push(fn), emit: (name, data) => (listeners[name] || []).forEach((fn) => fn(data)) };
       document.body.addEventListener('click', async (event) => {
         const button = event.target.closest('[data-button-action="add-to-cart"]');
         if (button) {
           event.preventDefault();
           const response = await fetch('/prestashop/cart', { method: 'POST', body: new URLSearchParams(new FormData(button.form)) + '&add=1&action=update' });
           const resp = await response.json();
           if (!resp.hasError) prestashop.emit('updateCart', { reason: { idProduct: 3, idProductAttribute: 0, linkAction: 'add-to-cart' }, resp });
         }
         if (event.target.id === 'remove') prestashop.emit('updateCart', { reason: { idProduct: 3, linkAction: 'delete-from-cart' }, resp: {} });
       });
     </script>`,
  ).replace('<body>', '<body id="product" class="page-product">'),
  // GA4 via gtag: one add pushed before the snippet loaded, one after a click.
  '/ga4': `<!doctype html><html><head><meta charset="utf-8"><title>GA4</title>
     <script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
       gtag('js', new Date()); gtag('event', 'add_to_cart', { currency: 'EUR', value: 24, items: [{ item_id: 'early', price: 24, quantity: 1 }] });</script>
     ${SNIPPET}</head><body>
     <button id="add" type="button">Buy one more</button>
     <button id="wish" type="button">♡</button>
     <script>
       document.querySelector('#add').addEventListener('click', () => gtag('event', 'add_to_cart', { items: [{ item_id: 'late' }] }));
       document.querySelector('#wish').addEventListener('click', () => gtag('event', 'add_to_wishlist', { items: [{ item_id: 'late' }] }));
     </script></body></html>`,
  // A plain store: no platform, a button whose text says add to bag, its own cart request.
  '/plain': page(
    'Plain store',
    `<button type="button" id="bag">Add to bag</button>
     <button type="button" id="js-only">Add to basket</button>
     <button type="button" id="compare">Add to compare</button>
     <script>
       document.querySelector('#bag').addEventListener('click', () => fetch('/api/bag', { method: 'POST', body: 'sku=1' }));
       document.querySelector('#js-only').addEventListener('click', () => { window.localCart = (window.localCart || 0) + 1; });
     </script>`,
  ),
  // A single-page app: client-side routes with pushState.
  '/spa': page(
    'SPA',
    `<nav><a href="/spa/products" data-route>Products</a><a href="/spa/pricing" data-route>Pricing</a></nav><main id="view">Home</main>
     <script>
       document.addEventListener('click', (event) => {
         const link = event.target.closest('[data-route]');
         if (!link) return;
         event.preventDefault();
         history.pushState({}, '', link.getAttribute('href'));
         document.querySelector('#view').textContent = link.textContent;
       });
     </script>`,
  ),
  '/empty': page('Empty', '<p>Nothing here</p>'),
};

const html = (res, status, body) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

export const handlers = {
  'POST /cart/add': ({ req, res, body }) => {
    const refused = body.includes('9999');
    // A form post without the theme's JavaScript: Shopify redirects an accepted add to the cart and
    // renders a refused one at /cart/add itself.
    if ((req.headers.accept ?? '').includes('text/html')) return refused ? html(res, 422, pages['/shopify/cart'].replace('<h1>Your cart</h1>', '<h1>Cart error</h1><p>Sold out</p>')) : res.writeHead(302, { location: '/shopify/cart' }).end();
    return refused ? json(res, 422, { status: 422, message: 'Cart Error', description: 'Sold out' }) : json(res, 200, { id: 4001, quantity: 1 });
  },
  'POST /': ({ res, url, body }) =>
    url.searchParams.get('wc-ajax') !== 'add_to_cart'
      ? json(res, 404, {})
      : body.includes('product_id=18')
        ? json(res, 200, { error: true, product_url: '/woo/product/soldout?error=1' })
        : json(res, 200, { fragments: {}, cart_hash: 'h' }),
  'POST /woo/product/soldout': ({ res }) => res.writeHead(303, { location: '/woo/product/soldout?error=1' }).end(),
  'POST /cart/change': ({ res }) => json(res, 200, { item_count: 0 }),
  'POST /wp-json/wc/store/v1/batch': ({ res }) => json(res, 207, { responses: [{ status: 201, body: {} }] }),
  'POST /woo/product/mug': ({ res }) => res.writeHead(303, { location: '/woo/product/mug?added=1' }).end(),
  'POST /checkout/cart/add/uenc/aHR0cA,,/product/5/': ({ res, body }) =>
    json(res, 200, /name="qty"\r\n\r\n0\r\n/.test(body) ? { backUrl: '/magento/mug.html?error=1' } : []),
  'POST /remote/v1/cart/add': ({ res }) => json(res, 200, { data: { cart_id: 'c', cart_item: { id: 'i' } } }),
  'GET /cart.php': ({ res }) => res.writeHead(302, { location: '/empty' }).end(),
  'POST /prestashop/cart': ({ res }) => json(res, 200, { success: true, hasError: false }),
  'POST /api/bag': ({ res }) => json(res, 200, { ok: true }),
};
