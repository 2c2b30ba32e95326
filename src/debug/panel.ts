import type { Tracker } from '../tracker/types';
import type { Guard } from '../util/guard';

type Style = Partial<CSSStyleDeclaration>;

/** Builds an element with CSSOM styles and text only: no innerHTML, no inline style attribute (CSP-safe). */
function element(tag: string, style: Style = {}, text = ''): HTMLElement {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  node.textContent = text;
  return node;
}

/**
 * The debug panel (debug mode only; never in the production builds): live score, stage and the
 * breakdown by rule, in a closed shadow root so the page's CSS cannot touch it and it cannot
 * touch the page. Returns a function that removes it.
 */
export function installPanel(tracker: Tracker, guard: Guard): () => void {
  const host = document.createElement('div');
  host.setAttribute('data-leadscore-panel', '');
  const root = host.attachShadow({ mode: 'closed' });
  const box = element('div', {
    position: 'fixed',
    right: '12px',
    bottom: '12px',
    zIndex: '2147483647',
    font: '12px/1.45 system-ui, sans-serif',
    background: '#14161a',
    color: '#e8e8e8',
    padding: '10px 12px',
    borderRadius: '8px',
    boxShadow: '0 6px 24px rgba(0,0,0,.35)',
    width: '280px',
    maxHeight: '60vh',
    overflow: 'auto',
  });
  const header = element('div', { display: 'flex', justifyContent: 'space-between', fontWeight: '600', marginBottom: '6px' }, 'leadscore debug');
  const close = element('button', { all: 'unset', cursor: 'pointer', padding: '0 4px' }, '×');
  close.setAttribute('aria-label', 'Close the leadscore debug panel');
  header.appendChild(close);
  const score = element('div', { fontSize: '20px', fontWeight: '700' });
  const stage = element('div', { marginBottom: '6px', color: '#9ad' });
  const rules = element('div');
  const footer = element('div', { marginTop: '6px', color: '#999' });
  box.append(header, score, stage, rules, footer);
  root.appendChild(box);

  let timer: ReturnType<typeof setTimeout> | undefined;
  const render = guard(async () => {
    const state = await tracker.getState();
    score.textContent = `score ${state.score}`;
    stage.textContent = state.stage ? `stage: ${state.stage}` : 'stage: none yet';
    const rows = Object.entries(state.rules)
      .sort((a, b) => b[1].points - a[1].points)
      .map(([id, rule]) => {
        const row = element('div', { display: 'flex', justifyContent: 'space-between' }, `${id} ×${rule.count}`);
        row.appendChild(element('span', {}, `${rule.points} pts`));
        return row;
      });
    rules.replaceChildren(...rows);
    footer.textContent = `visits ${state.visits} · storage ${state.storage}`;
  });
  const update = (): void => {
    clearTimeout(timer);
    timer = setTimeout(render, 100);
  };
  const stops = [tracker.on('signal', update), tracker.on('qualified', update)];
  const remove = (): void => {
    clearTimeout(timer);
    stops.forEach((stop) => stop());
    host.remove();
  };
  close.addEventListener('click', guard(remove));
  const mount = guard(() => {
    (document.body ?? document.documentElement).appendChild(host);
    update();
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount, { once: true });
  else mount();
  return remove;
}
