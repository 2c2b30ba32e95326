/** Remembers an opt-out with nothing but this key: no id, no time. */
export const OPT_OUT_KEY = 'leadscore:optout';

/** Whether this browser opted out (a synchronous localStorage read: call it late, see tracker). */
export function readOptOut(): boolean {
  try {
    return localStorage.getItem(OPT_OUT_KEY) === '1';
  } catch {
    return false;
  }
}

/** Remembers the opt-out. Without localStorage it lasts for this page only. */
export function writeOptOut(): void {
  try {
    localStorage.setItem(OPT_OUT_KEY, '1');
  } catch {
    // The visitor's data is deleted anyway; the choice is not remembered.
  }
}
