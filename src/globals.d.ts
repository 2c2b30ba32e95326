/** Build flag: true in `leadscore.js` and the ESM build, false in `leadscore.lite.js` (no web-vitals). */
declare const __WEB_VITALS__: boolean;
