import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { readScriptOptions } from '../../src/tag';
import type { ConfigProblem } from '../../src/config';

function tag(attributes: Record<string, string>, json?: string): { options: Record<string, unknown>; problems: ConfigProblem[] } {
  document.body.innerHTML = json === undefined ? '' : `<script type="application/json" id="leadscore-config">${json}</script>`;
  const script = document.createElement('script');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  const problems: ConfigProblem[] = [];
  return { options: readScriptOptions(script, problems), problems };
}
afterEach(() => {
  document.body.innerHTML = '';
  history.replaceState(null, '', '/');
});

describe('script-tag attributes go through the one parser', () => {
  it('maps every documented attribute', () => {
    const { options, problems } = tag({
      'data-endpoint': '/collect',
      'data-site': 'mug-shop',
      'data-stages': 'mql:40,hot:90',
      'data-high-value': '/pricing,/quote/*',
      'data-half-life-days': '7',
      'data-session-minutes': '45',
      'data-consent': 'required',
      'data-debug': '',
      'data-allow-automation': '',
      'data-capture-email': 'true',
      'data-retention-days': '30',
      'data-respect-privacy-signals': 'false',
      'data-default-rules': 'true',
      'data-hash-change': '',
      'data-url-params': 'utm_source,ref',
      'data-cool-off-days': '10',
      src: '/dist/leadscore.js',
    });
    expect(problems).toEqual([]);
    const { config, problems: configProblems } = parseConfig(options, { pageUrl: 'https://shop.example/' });
    expect(configProblems).toEqual([]);
    expect(config).toMatchObject({
      endpoint: 'https://shop.example/collect',
      site: 'mug-shop',
      consent: 'required',
      debug: true,
      allowAutomation: true,
      captureEmail: true,
      retentionDays: 30,
      respectPrivacySignals: false,
      hashChange: true,
      urlParams: ['utm_source', 'ref'],
    });
    expect(config.model).toMatchObject({ halfLifeDays: 7, sessionMinutes: 45, coolOffDays: 10, stages: [{ name: 'mql', threshold: 40 }, { name: 'hot', threshold: 90 }] });
    expect(config.model.rules.find((rule) => rule.id === 'high_value_page')!.match).toEqual({ path: ['/pricing', '/quote/*'] });
  });

  it('reads the inline JSON of data-config, and attributes on the tag win', () => {
    const { options, problems } = tag(
      { 'data-config': '#leadscore-config', 'data-threshold': '70' },
      JSON.stringify({ threshold: 60, rules: [{ id: 'webinar', signal: 'webinar', points: 30 }], halfLifeDays: 21 }),
    );
    expect(problems).toEqual([]);
    const { config } = parseConfig(options, { pageUrl: 'https://shop.example/' });
    expect(config.model.stages).toEqual([{ name: 'mql', threshold: 70 }]);
    expect(config.model.halfLifeDays).toBe(21);
    expect(config.model.rules.at(-1)!.id).toBe('webinar');
  });

  it.each([
    ['malformed JSON', '#leadscore-config', '{ threshold: 60 '],
    ['a JSON array', '#leadscore-config', '[1]'],
    ['a missing element', '#nope', '{}'],
    ['not an id reference', 'leadscore-config', '{}'],
  ])('reports %s in data-config as fatal', (_, reference, json) => {
    const { problems } = tag({ 'data-config': reference }, json);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.fatal).toBe(true);
    expect(problems[0]!.message).toMatch(/^data-config: /);
  });

  it('turns debug on with ?leadscore_debug=1', () => {
    history.replaceState(null, '', '/?leadscore_debug=1');
    expect(tag({}).options.debug).toBe(true);
  });

  it('suggests the closest attribute for a typo', () => {
    const { options } = tag({ 'data-treshold': '60', 'data-endpont': '/c' });
    const messages = parseConfig(options, { pageUrl: 'https://shop.example/' }).problems.map((p) => p.message);
    expect(messages).toContain('unknown option "treshold" (data-treshold); did you mean "threshold" (data-threshold)?');
    expect(messages).toContain('unknown option "endpont" (data-endpont); did you mean "endpoint" (data-endpoint)?');
  });
});
