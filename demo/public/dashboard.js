// The demo's marketer dashboard: sign in, the lead list, two charts, live updates over
// server-sent events, from the collector's API. Event contents are untrusted: everything is
// written with textContent, never innerHTML, and a page is shown as text, never as a link.
const leads = new Map();
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The path of a URL, or the text as it is when it is not one (one odd lead never breaks the list). */
function pathOf(text) {
  try {
    return new URL(text).pathname;
  } catch {
    return String(text ?? '');
  }
}

function row(lead, fresh) {
  const tr = document.createElement('tr');
  if (fresh) tr.className = 'new';
  tr.dataset.id = lead.id;
  tr.append(cell(new Date(lead.lastSeen).toLocaleString()));
  const stage = cell('');
  const tag = document.createElement('span');
  const flagged = lead.bot || lead.suspicious;
  tag.className = 'tag' + (flagged ? ' bot' : '');
  tag.textContent = flagged ? `${lead.stage} (flagged)` : lead.stage;
  stage.append(tag);
  tr.append(stage, cell(String(lead.score)), cell(lead.email ?? `Anonymous visitor ${lead.visitor.slice(0, 8)}`, lead.email ? '' : 'muted'));
  const top = Object.entries(lead.rules ?? {}).sort((a, b) => b[1].points - a[1].points).slice(0, 4);
  tr.append(cell(top.map(([id, rule]) => `${id} ${Math.round(rule.points * 10) / 10}`).join(' · ')));
  tr.append(cell([lead.source.replace('_', ' '), lead.campaign].filter(Boolean).join(' · ')), cell(pathOf(lead.page)), cell(lead.status));
  return tr;
}

function bars(svg, values, labels) {
  svg.replaceChildren();
  const max = Math.max(1, ...values);
  const width = 400 / Math.max(values.length, 1);
  values.forEach((value, i) => {
    const height = (value / max) * 130;
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(i * width + 2));
    rect.setAttribute('y', String(140 - height));
    rect.setAttribute('width', String(Math.max(width - 4, 1)));
    rect.setAttribute('height', String(height));
    rect.setAttribute('fill', '#1a5fb4');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${labels[i]}: ${value}`;
    rect.append(title);
    svg.append(rect);
    if (i % Math.ceil(values.length / 6) === 0) {
      const text = document.createElementNS(SVG, 'text');
      text.setAttribute('x', String(i * width + 2));
      text.setAttribute('y', '155');
      text.textContent = labels[i];
      svg.append(text);
    }
  });
}

function render() {
  const list = [...leads.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  $('total').textContent = String(list.length);
  $('hour').textContent = String(list.filter((lead) => Date.now() - lead.qualifiedAt < 3600_000).length);
  const scores = list.map((lead) => lead.score).sort((a, b) => a - b);
  $('median').textContent = scores.length ? String(scores[Math.floor(scores.length / 2)]) : '–';
  $('bots').textContent = String(list.filter((lead) => lead.bot || lead.suspicious).length);
  $('empty').hidden = list.length > 0;
  const buckets = Array(24).fill(0);
  for (const lead of list) {
    const age = Date.now() - lead.qualifiedAt;
    if (age >= 0 && age < 2 * 3600_000) buckets[23 - Math.floor(age / 300_000)]++;
  }
  bars($('timeline'), buckets, buckets.map((_, i) => `-${(23 - i) * 5} min`));
  const bins = Array(12).fill(0);
  for (const lead of list) bins[Math.min(11, Math.floor(lead.score / 10))]++;
  bars($('histogram'), bins, bins.map((_, i) => (i === 11 ? '110+' : `${i * 10}-${i * 10 + 9}`)));
}

function put(lead, fresh) {
  leads.set(lead.id, lead);
  const existing = document.querySelector(`#leads tr[data-id="${CSS.escape(lead.id)}"]`);
  if (existing) existing.replaceWith(row(lead, fresh));
  else $('leads').prepend(row(lead, fresh));
  render();
}

async function start() {
  const page = await (await fetch('/api/leads?limit=200')).json();
  for (const lead of page.leads.reverse()) put(lead, false);
  render();
  const events = new EventSource('/api/stream');
  events.onopen = () => ($('live').textContent = '● live');
  events.onerror = () => ($('live').textContent = 'reconnecting…');
  // The stream says which lead changed; the lead itself is read through the API.
  events.addEventListener('lead', async (event) => {
    const { id } = JSON.parse(event.data);
    const response = await fetch(`/api/leads/${encodeURIComponent(id)}`);
    if (response.ok) put((await response.json()).lead, true);
  });
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: $('password').value }) });
  if (!response.ok) return void ($('login-error').textContent = response.status === 429 ? 'Too many attempts: wait a minute.' : 'Wrong password.');
  $('login').hidden = true;
  $('app').hidden = false;
  void start();
});

fetch('/api/session').then((response) => {
  if (response.ok) {
    $('app').hidden = false;
    return void start();
  }
  $('login').hidden = false;
});
