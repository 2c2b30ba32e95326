import { fromAttributeName, type ConfigProblem } from './config';

/**
 * Reads the script tag's configuration: every `data-` attribute (camelCased), merged over the
 * inline JSON that `data-config="#id"` points at, plus `?leadscore_debug=1` from the page URL. The
 * result goes through the same `parseConfig` as ESM options. Problems reading the JSON are fatal.
 */
export function readScriptOptions(script: HTMLScriptElement | null, problems: ConfigProblem[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const attributes: Record<string, string> = {};
  // Names, then values: `script.attributes` creates an Attr object per attribute (see declaredProps).
  for (const name of script ? script.getAttributeNames() : []) {
    if (name.startsWith('data-')) attributes[fromAttributeName(name)] = script!.getAttribute(name)!;
  }
  const configRef = attributes.config;
  delete attributes.config;
  if (configRef !== undefined) {
    const element = configRef.startsWith('#') ? document.getElementById(configRef.slice(1)) : null;
    try {
      if (!element) throw new Error(`no element ${configRef}`);
      const json: unknown = JSON.parse(element.textContent ?? '');
      if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
      Object.assign(options, json);
    } catch (error) {
      problems.push({ fatal: true, message: `data-config: ${(error as Error).message}` });
    }
  }
  // Attributes on the tag win over the inline JSON: they are the quickest thing to edit.
  Object.assign(options, attributes);
  if (/[?&]leadscore_debug=1(&|$)/.test(location.search)) options.debug = true;
  return options;
}

