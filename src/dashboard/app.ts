/**
 * The marketer's dashboard: served by the collector at /dashboard, a small script with no framework
 * (ARCHITECTURE.md: "The dashboard"). Everything from an event is untrusted: it is written with
 * textContent and attributes, never as HTML, and a URL becomes a link only when it is http(s).
 */
import { explainLead, type Formatters } from '../collector/leads/explain';
import { isFlagged, searchText, type Lead } from '../collector/leads/lead';
import type { Job } from '../collector/destinations/plan';

type Json = Record<string, unknown>;
interface LeadPage {
  leads: Lead[];
  next?: string;
}
interface Detail {
  lead: Lead;
  halfLifeDays: number;
  events: { id: string; type: string; at: number; receivedAt: number; flags: string[]; body: Json }[];
  history: { at: number; by: string; change: string }[];
  notes: { at: number; by: string; change: string }[];
  deliveries: Delivery[];
}
type Delivery = Job;
interface DestinationInfo {
  name: string;
  type: string;
  events: string[];
  sites: string[];
  anonymous: boolean;
  counts: Partial<Record<Delivery['state'], number>>;
}
interface Stats {
  total: number;
  flagged: number;
  identified: number;
  byDay: { day: number; count: number }[];
  byStatus: Record<string, number>;
  bySource: Record<string, number>;
  byScore: { band: number; count: number }[];
  sites: string[];
  stages: string[];
}

const STATUSES = ['new', 'working', 'sql', 'customer', 'rejected', 'spam'];
const SOURCES = ['paid_search', 'paid_social', 'display', 'email', 'affiliate', 'organic_search', 'organic_social', 'referral', 'direct'];
const SORTS: [string, string][] = [
  ['email', 'Who'],
  ['score', 'Score'],
  ['stage', 'Stage'],
  ['source', 'Source'],
  ['cartValue', 'Wants (cart)'],
  ['lastSeen', 'Last seen'],
  ['status', 'Status'],
];
const DAY_MS = 86_400_000;

const locale = navigator.language || 'en';
const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const format: Formatters = {
  number: (value) => numberFormat.format(value),
  money: (value, currency) => {
    try {
      return currency ? new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value) : numberFormat.format(value);
    } catch {
      return `${numberFormat.format(value)} ${currency ?? ''}`.trim();
    }
  },
};
const when = (time: number): string => (Number.isFinite(time) ? dateFormat.format(time) : '–');
const words = (value: string): string => value.replace(/_/g, ' ');

const $ = (id: string): HTMLElement => document.getElementById(id)!;
/** An element with text, attributes and children: the one way this page builds DOM. */
function h(tag: string, attributes: Record<string, string | boolean | undefined> = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
/** A link only for http(s) URLs; anything else (javascript:, data:, junk) stays text. */
function safeLink(url: unknown): Node {
  const text = String(url ?? '');
  try {
    const parsed = new URL(text);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return h('a', { href: parsed.href, rel: 'noopener noreferrer', target: '_blank' }, text);
  } catch {
    // Not a URL: shown as text.
  }
  return document.createTextNode(text);
}

let csrf = '';
async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(init.method && init.method !== 'GET' ? { 'x-csrf-token': csrf, 'content-type': 'application/json' } : {}) } });
  if (response.status === 401) {
    showLogin();
    throw new Error('signed out');
  }
  const body = (await response.json().catch(() => ({}))) as T & { errors?: string[] };
  if (!response.ok) throw new Error(body.errors?.join('; ') ?? `HTTP ${response.status}`);
  return body;
}

function notice(text: string): void {
  const element = $('notice');
  element.textContent = text;
  element.hidden = !text;
}

/**
 * Each navigation gets a number. A render shows its page only if no navigation happened while it
 * waited for the API: a slow answer never replaces the page the user went to since.
 */
let navigation = 0;
function show(token: number, ...nodes: (Node | string)[]): boolean {
  if (token !== navigation) return false;
  $('view').replaceChildren(...nodes);
  return true;
}

// ---------- sign-in ----------

function showLogin(): void {
  $('login').hidden = false;
  $('view').replaceChildren();
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  ($('password') as HTMLInputElement).focus();
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: ($('password') as HTMLInputElement).value }) });
  const body = (await response.json().catch(() => ({}))) as { csrf?: string; errors?: string[] };
  if (!response.ok) {
    $('login-error').textContent = response.status === 401 ? 'That password is not right.' : (body.errors?.[0] ?? 'Sign-in failed.');
    return;
  }
  csrf = body.csrf ?? '';
  ($('password') as HTMLInputElement).value = '';
  start();
});

$('sign-out').addEventListener('click', async () => {
  await fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } });
  location.hash = '';
  showLogin();
});

// ---------- the leads list ----------

const state = { query: new URLSearchParams('sort=lastSeen&order=desc'), next: undefined as string | undefined, rows: new Map<string, HTMLElement>(), waiting: 0 };

function leadRow(lead: Lead, fresh = false): HTMLElement {
  const flagged = isFlagged(lead);
  const who = lead.email ?? `Anonymous visitor ${lead.visitor.slice(0, 8)}`;
  const top = lead.interest.items[0];
  const wants = [top?.name ?? top?.item_id, lead.interest.categories[0], lead.interest.cart ? format.money(lead.interest.cart.value, lead.interest.cart.currency) + ' in cart' : undefined].filter(Boolean).join(' · ');
  const cell = (label: string, ...children: (Node | string)[]) => h('td', { 'data-label': label }, ...children);
  return h(
    'tr',
    { 'data-id': lead.id, class: fresh ? 'fresh' : undefined },
    cell('Who', h('a', { href: `#/lead/${encodeURIComponent(lead.id)}` }, who), lead.email ? '' : h('span', { class: 'muted' }, '')),
    h('td', { 'data-label': 'Score', class: 'num' }, `${format.number(lead.score)}`, h('br'), h('span', { class: 'muted' }, `at qualification ${format.number(lead.qualifiedScore)}`)),
    cell('Stage', h('span', { class: 'tag' }, lead.stage)),
    cell('Source', words(lead.source), lead.campaign ? h('span', { class: 'muted' }, ` · ${lead.campaign}`) : ''),
    cell('Wants', wants || '–'),
    cell('Last seen', when(lead.lastSeen)),
    cell('Status', h('span', { class: 'tag' + (lead.status === 'customer' ? ' customer' : '') }, lead.status), flagged ? h('span', { class: 'tag flag' }, ' flagged') : ''),
  );
}

function filtersForm(stats: Stats): HTMLElement {
  const q = state.query;
  const select = (name: string, label: string, options: string[]) =>
    h('p', {}, h('label', { for: `f-${name}` }, label), h('select', { id: `f-${name}`, name }, h('option', { value: '' }, 'Any'), ...options.map((option) => h('option', { value: option, selected: q.get(name) === option }, words(option)))));
  const input = (name: string, label: string, type: string) => h('p', {}, h('label', { for: `f-${name}` }, label), h('input', { id: `f-${name}`, name, type, value: q.get(name) ?? '' }));
  const check = (name: string, label: string) => h('p', { class: 'check' }, h('input', { id: `f-${name}`, name, type: 'checkbox', value: 'true', checked: q.get(name) === 'true' }), h('label', { for: `f-${name}` }, label));
  const form = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Filter leads' },
    input('q', 'Search (email, visitor, product)', 'search'),
    select('site', 'Site', stats.sites),
    select('stage', 'Stage', stats.stages),
    select('status', 'Status', STATUSES),
    select('source', 'Source', SOURCES),
    input('from', 'Last seen from', 'date'),
    input('to', 'Last seen to', 'date'),
    check('identified', 'Identified only'),
    check('hideFlagged', 'Hide flagged'),
    h('p', {}, h('button', { type: 'submit' }, 'Apply')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form as HTMLFormElement);
    const next = new URLSearchParams({ sort: q.get('sort') ?? 'lastSeen', order: q.get('order') ?? 'desc' });
    for (const [key, value] of data) if (value) next.set(key, key === 'to' ? String(Date.parse(String(value)) + DAY_MS - 1) : key === 'from' ? String(Date.parse(String(value))) : String(value));
    state.query = next;
    void renderLeads();
  });
  return form;
}

async function renderLeads(): Promise<void> {
  const token = navigation;
  const view = $('view');
  const q = state.query;
  // The date inputs show dates; the query holds epoch ms.
  const shown = new URLSearchParams(q);
  for (const key of ['from', 'to']) if (shown.get(key)) shown.set(key, new Date(Number(shown.get(key))).toISOString().slice(0, 10));
  const session = await api<{ sitesConfigured: boolean }>('/api/session');
  const stats = await api<Stats>('/api/stats');
  const page = await api<LeadPage>(`/api/leads?${q}&limit=50`);
  state.next = page.next;
  state.rows.clear();
  state.waiting = 0;
  const body = h('tbody');
  for (const lead of page.leads) {
    const row = leadRow(lead);
    state.rows.set(lead.id, row);
    body.append(row);
  }
  const headers = SORTS.map(([key, label]) => {
    const active = q.get('sort') === key;
    const order = active && q.get('order') === 'asc' ? 'ascending' : active ? 'descending' : undefined;
    const button = h('button', { type: 'button' }, label, active ? (order === 'ascending' ? ' ▲' : ' ▼') : '');
    button.addEventListener('click', () => {
      q.set('order', active && q.get('order') === 'desc' ? 'asc' : 'desc');
      q.set('sort', key);
      void renderLeads();
    });
    return h('th', { scope: 'col', 'aria-sort': order, class: key === 'score' ? 'num' : undefined }, button);
  });
  const more = h('button', { type: 'button', class: 'secondary', hidden: !page.next }, 'Load more');
  more.addEventListener('click', async () => {
    if (!state.next) return;
    const next = await api<LeadPage>(`/api/leads?${q}&limit=50&cursor=${encodeURIComponent(state.next)}`);
    state.next = next.next;
    for (const lead of next.leads) if (!state.rows.has(lead.id)) body.append(leadRow(lead)), state.rows.set(lead.id, body.lastElementChild as HTMLElement);
    more.hidden = !next.next;
  });
  const csv = new URLSearchParams(q);
  const waiting = h('button', { type: 'button', class: 'secondary', id: 'new-leads', hidden: true }, '');
  waiting.addEventListener('click', () => void renderLeads());
  const shownNow = show(
    token,
    h('h1', {}, 'Leads'),
    session.sitesConfigured ? '' : h('p', { class: 'notice' }, 'No sites are configured: the collector accepts events from any origin. Add "sites" to leadscore.config.json to accept only your stores.'),
    filtersForm(stats),
    h('div', { class: 'toolbar' }, h('span', { id: 'count' }, `${format.number(stats.total)} leads in all`), h('a', { href: `/api/leads.csv?${csv}`, download: 'leads.csv' }, 'Export these as CSV'), waiting),
    page.leads.length ? h('table', { class: 'leads' }, h('caption', { class: 'muted' }, 'Leads, newest activity first unless sorted otherwise'), h('thead', {}, h('tr', {}, ...headers)), body) : h('p', { class: 'muted' }, 'No lead matches. Leads appear here when a visitor reaches a stage on your store.'),
    more,
  );
  // Which query the list shows (tests and bookmarks read it).
  if (shownNow) view.dataset.query = q.toString();
}

/** A live change: a lead already shown is updated in place; new ones wait behind a button, so no row moves under the pointer. */
async function onLive(id: string): Promise<void> {
  const route = location.hash;
  if (route.startsWith('#/lead/')) {
    if (decodeURIComponent(route.slice(7)) !== id) return;
    // Never throw away what the marketer is typing: the page shows the update after saving.
    if (document.querySelector('section.actions form[data-dirty]')) $('saved').textContent = 'This lead changed meanwhile: save (or reload) to see the update.';
    else void renderLead(id);
    return;
  }
  if (!route.startsWith('#/leads') && route !== '' && route !== '#/') return;
  const row = state.rows.get(id);
  if (row) {
    const detail = await api<Detail>(`/api/leads/${encodeURIComponent(id)}`);
    const fresh = leadRow(detail.lead, true);
    row.replaceWith(fresh);
    state.rows.set(id, fresh);
    return;
  }
  // A new lead goes on top when the list shows the newest first and the pointer is not on it (no row
  // moves under the pointer); otherwise it waits behind the button.
  const table = document.querySelector('table.leads tbody');
  if (table && state.query.get('sort') === 'lastSeen' && state.query.get('order') !== 'asc' && !document.querySelector('table.leads:hover')) {
    const detail = await api<Detail>(`/api/leads/${encodeURIComponent(id)}`);
    if (matchesFilters(detail.lead)) {
      const fresh = leadRow(detail.lead, true);
      table.prepend(fresh);
      state.rows.set(id, fresh);
    }
    return;
  }
  state.waiting++;
  const button = document.getElementById('new-leads');
  if (button) {
    button.textContent = `${state.waiting} new or changed lead${state.waiting === 1 ? '' : 's'}: show`;
    button.hidden = false;
  }
}

/** Whether a lead belongs in the list as filtered (what the server would have answered). */
function matchesFilters(lead: Lead): boolean {
  const q = state.query;
  const text = q.get('q')?.toLowerCase();
  return (
    (!q.get('site') || lead.site === q.get('site')) &&
    (!q.get('stage') || lead.stage === q.get('stage')) &&
    (!q.get('status') || lead.status === q.get('status')) &&
    (!q.get('source') || lead.source === q.get('source')) &&
    (!q.get('from') || lead.lastSeen >= Number(q.get('from'))) &&
    (!q.get('to') || lead.lastSeen <= Number(q.get('to'))) &&
    (q.get('identified') !== 'true' || !!lead.email) &&
    (q.get('hideFlagged') !== 'true' || !isFlagged(lead)) &&
    (!text || searchText(lead).includes(text))
  );
}

// ---------- one lead ----------

async function renderLead(id: string): Promise<void> {
  const token = navigation;
  delete $('view').dataset.query;
  const detail = await api<Detail>(`/api/leads/${encodeURIComponent(id)}`);
  const { lead } = detail;
  const who = lead.email ?? `Anonymous visitor ${lead.visitor.slice(0, 8)}`;
  const why = explainLead({ lead, halfLifeDays: detail.halfLifeDays }, format);
  const rules = Object.entries(lead.rules).sort((a, b) => b[1].points - a[1].points);
  const status = h('select', { id: 'status', name: 'status' }, ...STATUSES.map((value) => h('option', { value, selected: lead.status === value }, words(value))));
  const owner = h('input', { id: 'owner', name: 'owner', value: lead.owner ?? '', maxlength: '200' });
  const note = h('textarea', { id: 'note', name: 'note', maxlength: '5000' });
  const form = h('form', {}, h('p', {}, h('label', { for: 'status' }, 'Status'), status), h('p', {}, h('label', { for: 'owner' }, 'Owner'), owner), h('p', {}, h('label', { for: 'note' }, 'Add a note'), note), h('p', {}, h('button', { type: 'submit' }, 'Save')), h('p', { id: 'saved', role: 'status' }));
  // Typed but not saved: a live update must not replace the form (see onLive).
  form.addEventListener('input', () => (form.dataset.dirty = 'true'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const change: Json = {};
    if ((status as HTMLSelectElement).value !== lead.status) change.status = (status as HTMLSelectElement).value;
    if ((owner as HTMLInputElement).value.trim() !== (lead.owner ?? '')) change.owner = (owner as HTMLInputElement).value.trim() || null;
    if ((note as HTMLTextAreaElement).value.trim()) change.note = (note as HTMLTextAreaElement).value.trim();
    if (!Object.keys(change).length) return void ($('saved').textContent = 'Nothing to save.');
    try {
      await api(`/api/leads/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify(change) });
      await renderLead(id);
      $('saved').textContent = 'Saved.';
    } catch (error) {
      $('saved').textContent = `Not saved: ${(error as Error).message}`;
    }
  });
  const dl = (entries: [string, Node | string][]) => h('dl', {}, ...entries.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
  const attribution = lead.attribution;
  show(
    token,
    h('p', {}, h('a', { href: '#/leads' }, '← All leads')),
    h('h1', {}, who),
    h('div', { class: 'stats' },
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Score now'), h('b', {}, format.number(lead.score))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'At qualification'), h('b', {}, format.number(lead.qualifiedScore))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Stage'), h('b', {}, lead.stage)),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Status'), h('b', {}, words(lead.status)))),
    h('div', { class: 'grid' },
      h('section', { class: 'card why', 'aria-labelledby': 'why' }, h('h2', { id: 'why' }, 'Why'), ...why.map((sentence) => h('p', {}, sentence)),
        rules.length ? h('table', {}, h('caption', { class: 'muted' }, 'Points by rule (after decay)'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col', class: 'num' }, 'Times'), h('th', { scope: 'col', class: 'num' }, 'Points now'))), h('tbody', {}, ...rules.map(([rule, tally]) => h('tr', {}, h('td', {}, words(rule)), h('td', { class: 'num' }, format.number(tally.count)), h('td', { class: 'num' }, format.number(tally.points)))))) : ''),
      h('section', { class: 'card actions', 'aria-labelledby': 'act' }, h('h2', { id: 'act' }, 'Act'), form,
        h('h2', {}, 'Notes'), detail.notes.length ? h('ul', {}, ...detail.notes.map((entry) => h('li', {}, `${when(entry.at)}, ${entry.by}: `, entry.change))) : h('p', { class: 'muted' }, 'No notes yet.'),
        h('h2', {}, 'Changes'), detail.history.length ? h('ul', {}, ...detail.history.map((entry) => h('li', {}, `${when(entry.at)}, ${entry.by}: ${words(entry.change)}`))) : h('p', { class: 'muted' }, 'No changes yet.')),
      h('section', { class: 'card', 'aria-labelledby': 'journey' }, h('h2', { id: 'journey' }, 'Journey'),
        h('ol', { class: 'timeline' }, ...detail.events.map((event) => h('li', {}, h('b', {}, words(event.type)), ` · ${when(event.at)} · score ${format.number(Number(event.body.score))}`, event.flags.length ? h('span', { class: 'tag flag' }, ` ${event.flags.join('; ')}`) : '')))),
      h('section', { class: 'card', 'aria-labelledby': 'wants' }, h('h2', { id: 'wants' }, 'What they want'),
        lead.interest.items.length ? h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col', class: 'num' }, 'Views'), h('th', { scope: 'col' }, 'In cart'))), h('tbody', {}, ...lead.interest.items.map((item) => h('tr', {}, h('td', {}, item.name ?? item.item_id), h('td', { class: 'num' }, item.price === undefined ? '–' : format.money(item.price, item.currency)), h('td', { class: 'num' }, format.number(item.views)), h('td', {}, item.in_cart ? 'yes' : 'no'))))) : h('p', { class: 'muted' }, 'No products seen.'),
        dl([['Categories', lead.interest.categories.join(', ') || '–'], ['Cart', lead.interest.cart ? format.money(lead.interest.cart.value, lead.interest.cart.currency) : '–'], ['Searches', format.number(lead.interest.searches)], ['Orders', lead.orders ? `${lead.orders} (${format.money(lead.revenue, lead.currency ?? undefined)})` : '–']])),
      h('section', { class: 'card', 'aria-labelledby': 'from' }, h('h2', { id: 'from' }, 'Where they came from'),
        dl([['Source', words(lead.source)], ['Campaign', lead.campaign ?? '–'], ['Landing page', lead.landing ? safeLink(lead.landing) : '–'], ['Referrer', attribution.referrer ? safeLink(attribution.referrer) : '–'], ...Object.entries(attribution).filter(([key]) => key !== 'landing' && key !== 'referrer').map(([key, value]): [string, string] => [key, value]), ['First seen', when(lead.firstSeen)], ['Last seen', when(lead.lastSeen)], ['Site', lead.site], ['Visitor', lead.visitor]])),
      h('section', { class: 'card', 'aria-labelledby': 'traits' }, h('h2', { id: 'traits' }, 'What the site shared'), Object.keys(lead.traits).length ? dl(Object.entries(lead.traits).map(([key, value]) => [key, String(value)])) : h('p', { class: 'muted' }, 'Nothing yet.')),
      detail.deliveries?.length ? h('section', { class: 'card', 'aria-labelledby': 'sent' }, h('h2', { id: 'sent' }, 'Sent to'), deliveryTable(detail.deliveries, false, () => renderLead(id))) : ''),
  );
}

// ---------- deliveries ----------

const DELIVERY_WORDS: Record<Delivery['state'], string> = {
  held: 'waiting for an email',
  pending: 'on its way',
  done: 'delivered',
  dead: 'failed',
  skipped: 'not sent',
};

/** What the destination last said, in a line. */
function lastAnswer(delivery: Delivery): string {
  const parts = [delivery.lastStatus ? `HTTP ${delivery.lastStatus}` : '', delivery.lastError ?? '', delivery.lastResponse ? delivery.lastResponse.slice(0, 200) : ''].filter(Boolean);
  return parts.join(' · ') || '–';
}

function deliveryTable(deliveries: Delivery[], withLead: boolean, refresh: () => Promise<void>): HTMLElement {
  const rows = deliveries.map((delivery) => {
    const again = delivery.state === 'dead' || delivery.state === 'skipped' ? h('button', { type: 'button', class: 'secondary', 'data-seq': String(delivery.seq) }, 'Send again') : '';
    if (again) {
      again.addEventListener('click', async () => {
        (again as HTMLButtonElement).disabled = true;
        try {
          await api(`/api/deliveries/${delivery.seq}/retry`, { method: 'POST' });
          await refresh();
          notice(`Sent again to ${delivery.destination}: it is on its way.`);
        } catch (error) {
          notice(`Could not send again: ${(error as Error).message}`);
          (again as HTMLButtonElement).disabled = false;
        }
      });
    }
    return h('tr', { 'data-state': delivery.state },
      h('td', {}, delivery.destination),
      withLead ? h('td', {}, h('a', { href: `#/lead/${encodeURIComponent(delivery.leadId)}` }, 'Open lead')) : null,
      h('td', {}, words(delivery.type.replace(/^lead\./, ''))),
      h('td', {}, h('span', { class: `tag delivery-${delivery.state}` }, DELIVERY_WORDS[delivery.state] ?? delivery.state)),
      h('td', { class: 'num' }, format.number(delivery.attempts)),
      h('td', {}, when(delivery.doneAt ?? delivery.nextAt)),
      h('td', { class: 'answer' }, lastAnswer(delivery)),
      h('td', {}, again));
  });
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Deliveries' }, h('table', { class: 'deliveries' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Destination'), withLead ? h('th', { scope: 'col' }, 'Lead') : null, h('th', { scope: 'col' }, 'Event'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col', class: 'num' }, 'Attempts'), h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'Last answer'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, ...rows)));
}

async function renderDeliveries(): Promise<void> {
  const token = navigation;
  delete $('view').dataset.query;
  const { destinations } = await api<{ destinations: DestinationInfo[] }>('/api/destinations');
  const { deliveries } = await api<{ deliveries: Delivery[] }>('/api/deliveries?state=dead&limit=200');
  const cards = destinations.map((destination) => {
    const result = h('p', { role: 'status', class: 'muted' });
    const test = h('button', { type: 'button', class: 'secondary' }, 'Send a test event');
    test.addEventListener('click', async () => {
      (test as HTMLButtonElement).disabled = true;
      result.textContent = 'Sending…';
      try {
        const outcome = await api<{ ok: boolean; status: number | null; response: string | null; error: string | null }>(`/api/destinations/${encodeURIComponent(destination.name)}/test`, { method: 'POST' });
        result.textContent = outcome.ok ? `Delivered (HTTP ${outcome.status}).` : `Not delivered: ${[outcome.status ? `HTTP ${outcome.status}` : '', outcome.error ?? '', (outcome.response ?? '').slice(0, 200)].filter(Boolean).join(' · ')}`;
      } catch (error) {
        result.textContent = `Could not send: ${(error as Error).message}`;
      } finally {
        (test as HTMLButtonElement).disabled = false;
      }
    });
    const count = (state: Delivery['state']) => format.number(destination.counts[state] ?? 0);
    return h('section', { class: 'card', 'aria-label': destination.name },
      h('h2', {}, `${destination.name} `, h('span', { class: 'muted' }, `(${destination.type})`)),
      h('p', { class: 'muted' }, `${destination.events.map((event) => event.replace(/^lead\./, '')).join(', ')}${destination.sites.length ? ` · sites ${destination.sites.join(', ')}` : ''}${destination.anonymous ? '' : ' · identified leads only'}`),
      h('dl', { class: 'counts' }, h('dt', {}, 'Delivered'), h('dd', {}, count('done')), h('dt', {}, 'On its way'), h('dd', {}, count('pending')), h('dt', {}, 'Waiting for an email'), h('dd', {}, count('held')), h('dt', {}, 'Failed'), h('dd', {}, count('dead')), h('dt', {}, 'Not sent (flagged)'), h('dd', {}, count('skipped'))),
      h('p', {}, test), result);
  });
  show(
    token,
    h('h1', {}, 'Deliveries'),
    destinations.length ? h('div', { class: 'grid' }, ...cards) : h('p', { class: 'card' }, 'No destinations are configured. Add a webhook, Slack, HubSpot or Klaviyo under "destinations" in leadscore.config.json (see the README).'),
    h('h2', {}, 'Failed deliveries'),
    deliveries.length ? deliveryTable(deliveries, true, renderDeliveries) : h('p', { class: 'muted' }, 'None: everything sent has been delivered or is on its way.'),
  );
}

// ---------- the overview ----------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A bar chart with labelled axes: a title for screen readers and every bar labelled. */
function barChart(title: string, bars: { label: string; value: number }[], options: { horizontal?: boolean } = {}): HTMLElement {
  // Drawn at about the size it is shown, so its labels stay readable.
  const width = 340;
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${options.horizontal ? bars.length * 26 + 10 : 220}`, role: 'img', 'aria-label': `${title}: ${bars.map((bar) => `${bar.label} ${bar.value}`).join(', ')}`, width: '100%' });
  if (options.horizontal) {
    bars.forEach((bar, i) => {
      const length = (bar.value / max) * (width - 150);
      chart.append(svg('text', { x: 0, y: i * 26 + 18 }, bar.label), svg('rect', { x: 100, y: i * 26 + 6, width: Math.max(length, 1), height: 16, fill: '#1a56a8' }), svg('text', { x: 106 + length, y: i * 26 + 18 }, format.number(bar.value)));
    });
  } else {
    const left = 36;
    const bottom = 190;
    const step = (width - left) / Math.max(bars.length, 1);
    // The y axis with its values: 0, half and max.
    chart.append(svg('line', { x1: left, y1: 10, x2: left, y2: bottom, class: 'axis' }), svg('line', { x1: left, y1: bottom, x2: width, y2: bottom, class: 'axis' }));
    for (const tick of [0, Math.round(max / 2), max]) chart.append(svg('text', { x: 2, y: bottom - (tick / max) * 170 + 4 }, format.number(tick)));
    bars.forEach((bar, i) => {
      const height = (bar.value / max) * 170;
      const rect = svg('rect', { x: left + i * step + 1, y: bottom - height, width: Math.max(step - 2, 1), height, fill: '#1a56a8' });
      rect.append(svg('title', {}, `${bar.label}: ${bar.value}`));
      chart.append(rect);
      if (i % Math.ceil(bars.length / 5) === 0) chart.append(svg('text', { x: left + i * step, y: bottom + 16 }, bar.label));
    });
  }
  return h('figure', { class: 'card' }, h('figcaption', {}, h('h2', {}, title)), chart as unknown as Node);
}

async function renderOverview(): Promise<void> {
  const token = navigation;
  delete $('view').dataset.query;
  const stats = await api<Stats>('/api/stats');
  const today = Math.floor(Date.now() / DAY_MS);
  const perDay = new Map(stats.byDay.map((entry) => [entry.day, entry.count]));
  const days = Array.from({ length: 30 }, (_, i) => today - 29 + i).map((day) => ({ label: dayFormat.format(day * DAY_MS), value: perDay.get(day) ?? 0 }));
  const sql = (stats.byStatus.sql ?? 0) + (stats.byStatus.customer ?? 0);
  const customers = stats.byStatus.customer ?? 0;
  const rate = (part: number, whole: number) => (whole ? `${format.number(Math.round((part / whole) * 1000) / 10)} %` : '–');
  show(
    token,
    h('h1', {}, 'Overview'),
    h('div', { class: 'stats' },
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Leads (MQL)'), h('b', {}, format.number(stats.total))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, `Sales-qualified · ${rate(sql, stats.total)}`), h('b', {}, format.number(sql))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, `Customers · ${rate(customers, sql)} of SQL`), h('b', {}, format.number(customers))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Identified'), h('b', {}, format.number(stats.identified))),
      h('div', { class: 'card' }, h('span', { class: 'muted' }, 'Flagged (kept apart)'), h('b', {}, format.number(stats.flagged)))),
    h('div', { class: 'grid' },
      barChart('Qualifications per day, last 30 days', days),
      barChart('Leads by source', SOURCES.filter((source) => stats.bySource[source]).map((source) => ({ label: words(source), value: stats.bySource[source]! })), { horizontal: true }),
      barChart('Funnel: MQL → SQL → customer', [{ label: 'MQL', value: stats.total }, { label: 'SQL', value: sql }, { label: 'customer', value: customers }], { horizontal: true }),
      barChart('Score distribution (points)', Array.from({ length: 11 }, (_, band) => ({ label: band >= 10 ? '100+' : `${band * 10}`, value: stats.byScore.find((entry) => entry.band === band)?.count ?? 0 })))),
  );
}

// ---------- routing, live updates ----------

let stream: EventSource | null = null;
async function route(): Promise<void> {
  const hash = location.hash;
  for (const [id, prefix] of [['nav-leads', '#/lead'], ['nav-overview', '#/overview'], ['nav-deliveries', '#/deliveries']] as const) {
    const link = $(id);
    if (hash.startsWith(prefix) || (id === 'nav-leads' && (hash === '' || hash === '#/'))) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  navigation++;
  try {
    if (hash.startsWith('#/lead/')) await renderLead(decodeURIComponent(hash.slice(7)));
    else if (hash === '#/overview') await renderOverview();
    else if (hash === '#/deliveries') await renderDeliveries();
    else await renderLeads();
    notice('');
  } catch (error) {
    if ((error as Error).message !== 'signed out') notice(`Could not load: ${(error as Error).message}`);
  }
}

function start(): void {
  $('login').hidden = true;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  void route();
  if (!stream) {
    stream = new EventSource('/api/stream');
    stream.onopen = () => ($('live').textContent = '● live');
    stream.onerror = () => ($('live').textContent = 'reconnecting…');
    stream.addEventListener('lead', (event) => {
      try {
        void onLive(String((JSON.parse((event as MessageEvent).data) as { id: string }).id));
      } catch {
        // A malformed message changes nothing.
      }
    });
  }
}

window.addEventListener('hashchange', () => void route());
void (async () => {
  const response = await fetch('/api/session');
  if (response.status === 503) return notice(((await response.json()) as { errors: string[] }).errors[0] ?? 'The dashboard is off.');
  if (!response.ok) return showLogin();
  csrf = ((await response.json()) as { csrf: string }).csrf;
  start();
})();
