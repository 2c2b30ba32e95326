// The demo store's pages. Plain HTML, the way a small shop would write it; the snippet finds the
// buyer-intent signals itself (no data- attributes needed), with a Shopify-like and a
// WooCommerce-like page to show platform detection.

export const PRODUCTS = [
  { slug: 'blue-mug', name: 'Blue stoneware mug', price: 24, sku: 'MUG-BLUE' },
  { slug: 'green-mug', name: 'Green stoneware mug', price: 24, sku: 'MUG-GREEN' },
  { slug: 'teapot', name: 'Speckled teapot', price: 58, sku: 'POT-1' },
];

const SNIPPET = `<script>window.leadscore = window.leadscore || function () { (leadscore.q = leadscore.q || []).push(arguments) };</script>
<script async src="/dist/leadscore.js" data-endpoint="/collect" data-site="mug-and-co" data-threshold="40" data-debug data-allow-automation></script>`;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem 1.25rem;color:#222}
header{display:flex;gap:1.25rem;align-items:baseline;border-bottom:1px solid #ddd;padding-bottom:.5rem;margin-bottom:1rem;flex-wrap:wrap}
header strong{font-size:1.2rem;margin-right:auto}a{color:#1a5fb4}button{font:inherit;padding:.45rem 1rem;border:0;border-radius:6px;background:#1a5fb4;color:#fff;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem}.card{border:1px solid #ddd;border-radius:8px;padding:1rem}
footer{margin-top:3rem;border-top:1px solid #ddd;padding-top:1rem;font-size:.9rem}input,textarea{font:inherit;padding:.35rem;margin:.2rem 0;max-width:100%}
.note{background:#f4f7fb;border-radius:6px;padding:.5rem .75rem;font-size:.9rem}`;

function layout(title, body, { head = '', bodyAttributes = '' } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Mug &amp; Co.</title><style>${STYLE}</style>${head}${SNIPPET}</head><body ${bodyAttributes}>
<header><strong><a href="/">Mug &amp; Co.</a></strong><a href="/category/mugs">Mugs</a><a href="/pricing">Wholesale pricing</a><a href="/contact">Contact</a><a href="/cart">Cart</a></header>
<main>${body}</main>
<footer><form action="/newsletter" method="post"><label>Newsletter: <input type="email" name="email" placeholder="you@example.com" required></label> <button>Subscribe</button></form>
<p>Also: a <a href="/shopify/products/blue-mug">Shopify-style product page</a> and a <a href="/woo/shop">WooCommerce-style shop</a>. Open <a href="/dashboard" target="_blank">the dashboard</a> to watch leads arrive.</p></footer>
</body></html>`;
}

const productLd = (p) =>
  `<script type="application/ld+json">${JSON.stringify({ '@context': 'https://schema.org', '@type': 'Product', name: p.name, sku: p.sku, offers: { '@type': 'Offer', price: p.price.toFixed(2), priceCurrency: 'EUR' } })}</script>`;

const PAGES = {
  '/': () =>
    layout(
      'Hand-made mugs',
      `<h1>Hand-made mugs and teapots</h1><p class="note">This demo store runs leadscore in debug mode: watch the panel in the corner and the console.
       A short visit qualifies: open a product, add it to the cart, look at the cart. Then see the lead on <a href="/dashboard" target="_blank">the dashboard</a>.</p>
       <div class="grid">${PRODUCTS.map((p) => `<div class="card"><a href="/products/${p.slug}">${p.name}</a><p>${p.price} EUR</p></div>`).join('')}</div>`,
    ),
  '/category/mugs': () =>
    layout('Mugs', `<h1>Mugs</h1><div class="grid">${PRODUCTS.filter((p) => p.slug.includes('mug')).map((p) => `<div class="card"><a href="/products/${p.slug}">${p.name}</a><p>${p.price} EUR</p></div>`).join('')}</div>`),
  '/cart': () => layout('Your cart', `<h1>Your cart</h1><p>Your mugs are waiting.</p><a href="/checkout"><button type="button">Proceed to checkout</button></a>`),
  '/checkout': () =>
    layout('Checkout', `<h1>Checkout</h1><form action="/checkout/pay" method="post"><label>Email <input type="email" name="email"></label><br><label>Card number <input name="card_number" autocomplete="cc-number"></label><br><button>Pay</button></form>`),
  '/pricing': () => layout('Wholesale pricing', `<h1>Wholesale pricing</h1><p>Cafés and shops: 20 % off from 24 pieces. <a href="/files/wholesale-catalogue.pdf">Download the catalogue (PDF)</a>.</p>`),
  '/contact': (url) =>
    layout(
      'Contact',
      `<h1>Contact us</h1>${url.searchParams.has('sent') ? '<p class="note">Thanks, we will write back soon.</p>' : ''}
       <form action="/contact" method="post"><label>Name <input name="name"></label><br><label>Email <input type="email" name="email"></label><br>
       <label>Message<br><textarea name="message" rows="4" cols="40"></textarea></label><br><button>Send</button></form>`,
    ),
  '/newsletter': () => layout('Subscribed', `<h1>Thanks for subscribing</h1>`),
  '/404': () => layout('Not found', `<h1>Not found</h1>`),
  // Shopify Dawn-style: <product-form> intercepts the submit and POSTs to /cart/add.
  '/shopify/products/blue-mug': () =>
    layout(
      'Blue mug (Shopify theme)',
      `<h1>Blue stoneware mug</h1><p>24 EUR · Shopify-style theme: the add is an AJAX POST to <code>/cart/add</code>.</p>
       <product-form><form method="post" action="/cart/add" data-type="add-to-cart-form" id="product-form"><input type="hidden" name="id" value="4001">
       <input name="quantity" value="1" size="2"> <button type="submit" name="add">Add to cart</button></form></product-form>
       <p id="notice" hidden>Item added to your cart</p>
       <script>document.querySelector('#product-form').addEventListener('submit', async (e) => { e.preventDefault();
         const r = await fetch('/cart/add', { method: 'POST', headers: { Accept: 'application/javascript' }, body: new FormData(e.target) });
         document.querySelector('#notice').hidden = !r.ok; });
         window.ShopifyAnalytics = { meta: { product: { id: 7001 }, page: { pageType: 'product' }, currency: 'EUR' } };</script>`,
      { head: productLd(PRODUCTS[0]) },
    ),
  // WooCommerce-style archive: jQuery AJAX add-to-cart buttons and the added_to_cart event.
  '/woo/shop': () =>
    layout(
      'Shop (WooCommerce theme)',
      `<h1>Shop</h1><p>WooCommerce-style archive: buttons add over AJAX and fire jQuery's <code>added_to_cart</code>.</p>
       <ul class="products grid">${PRODUCTS.map((p, i) => `<li class="card">${p.name}<br><a href="?add-to-cart=${i + 10}" data-quantity="1" class="button product_type_simple add_to_cart_button ajax_add_to_cart" data-product_id="${i + 10}" data-product_sku="${p.sku}">Add to cart</a></li>`).join('')}</ul>
       <script src="/node_modules/jquery/dist/jquery.min.js"></script>
       <script>jQuery(document.body).on('click', '.ajax_add_to_cart', function (e) { e.preventDefault(); const $b = jQuery(this);
         jQuery.post('/?wc-ajax=add_to_cart', { product_id: $b.attr('data-product_id'), quantity: 1 }, (r) => jQuery(document.body).trigger('added_to_cart', [r.fragments, r.cart_hash, $b]), 'json'); });</script>`,
      { bodyAttributes: 'class="woocommerce woocommerce-page"' },
    ),
};

for (const p of PRODUCTS) {
  PAGES[`/products/${p.slug}`] = () =>
    layout(
      p.name,
      `<h1>${p.name}</h1><p>${p.price} EUR · hand-thrown stoneware, dishwasher safe.</p>
       <form action="/cart" method="post"><input type="hidden" name="sku" value="${p.sku}"><label>Quantity <input name="quantity" value="1" size="2"></label>
       <button type="submit">Add to cart</button></form>
       <p><button type="button" onclick="this.textContent='Saved ♥'">Add to wishlist</button></p>`,
      { head: productLd(p) },
    );
}

/** The HTML of a store page, or null. */
export function renderPage(path, url) {
  const page = PAGES[path];
  return page ? page(url) : null;
}
