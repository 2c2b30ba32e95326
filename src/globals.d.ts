/** Build flag: true in `leadscore.js` and the ESM build, false in `leadscore.lite.js` (no web-vitals). */
declare const __WEB_VITALS__: boolean;
/** Build flag: true in `leadscore.debug.js`, the ESM build and tests; false in the production script-tag builds. */
declare const __DEBUG__: boolean;
