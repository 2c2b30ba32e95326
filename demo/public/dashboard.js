// The marketer's dashboard: the lead list, two charts, live updates over server-sent events.
// Beacon contents are untrusted: everything is written with textContent, never innerHTML.
const leads = [];
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(lead, fresh) {
  const tr = document.createElement('tr');
  if (fresh) tr.className = 'new';
  tr.dataset.id = lead.id;
  const when = new Date(lead.receivedAt);
  tr.append(cell(when.toLocaleString()));
  const stage = cell('');
  const tag = document.createElement('span');
  tag.className = 'tag' + (lead.bot ? ' bot' : '');
  tag.textContent = lead.bot ? `${lead.stage} (bot?)` : lead.stage;
  stage.append(tag);
  tr.append(stage, cell(`${lead.score} / ${lead.threshold}`), cell(lead.visitor.slice(0, 8), 'muted'));
  const top = Object.entries(lead.rules).sort((a, b) => b[1].points - a[1].points).slice(0, 4);
  tr.append(cell(top.map(([id, rule]) => `${id} ${Math.round(rule.points * 10) / 10}`).join(' · ')));
  const a = lead.attribution || {};
  const source = [a.utm_source, a.utm_medium].filter(Boolean).join(' / ') || (a.referrer ? `from ${a.referrer}` : 'direct');
  tr.append(cell(source), cell(new URL(lead.page).pathname));
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

function charts() {
  const now = Date.now();
  // Qualifications per 5 minutes over the last 2 hours.
  const buckets = Array(24).fill(0);
  for (const lead of leads) {
    const age = now - lead.receivedAt;
    if (age >= 0 && age < 2 * 3600_000) buckets[23 - Math.floor(age / 300_000)]++;
  }
  bars($('timeline'), buckets, buckets.map((_, i) => `-${(23 - i) * 5} min`));
  // Scores in bins of 10 points.
  const bins = Array(12).fill(0);
  for (const lead of leads) bins[Math.min(11, Math.floor(lead.score / 10))]++;
  bars($('histogram'), bins, bins.map((_, i) => (i === 11 ? '110+' : `${i * 10}-${i * 10 + 9}`)));
}

function stats() {
  $('total').textContent = String(leads.length);
  $('hour').textContent = String(leads.filter((lead) => Date.now() - lead.receivedAt < 3600_000).length);
  const scores = leads.map((lead) => lead.score).sort((a, b) => a - b);
  $('median').textContent = scores.length ? String(scores[Math.floor(scores.length / 2)]) : '–';
  $('bots').textContent = String(leads.filter((lead) => lead.bot).length);
  $('empty').hidden = leads.length > 0;
  charts();
}

function add(lead, fresh) {
  if (leads.some((other) => other.id === lead.id)) return;
  leads.unshift(lead);
  $('leads').prepend(row(lead, fresh));
  stats();
}

fetch('/api/leads')
  .then((response) => response.json())
  .then((list) => {
    for (const lead of list.reverse()) add(lead, false);
    stats();
    const events = new EventSource('/api/events');
    events.onopen = () => ($('live').textContent = '● live');
    events.onerror = () => ($('live').textContent = 'reconnecting…');
    events.addEventListener('lead', (event) => add(JSON.parse(event.data), true));
  });
