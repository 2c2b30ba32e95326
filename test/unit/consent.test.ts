import { describe, expect, it } from 'vitest';
import { readConsentMode, readTcf } from '../../src/privacy/consent';

const args = (...items: unknown[]) => (function () { return arguments; })(...(items as []));

describe('IAB TCF v2.2', () => {
  it.each<[string, unknown, boolean, boolean | null]>([
    ['GDPR does not apply', { gdprApplies: false }, true, true],
    ['still unknown', { eventStatus: 'tcloaded' }, true, null],
    ['UI showing', { gdprApplies: true, eventStatus: 'cmpuishown', purpose: { consents: { 1: true } } }, true, null],
    ['loaded with purpose 1', { gdprApplies: true, eventStatus: 'tcloaded', purpose: { consents: { 1: true } } }, true, true],
    ['user accepted', { gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents: { 1: true, 2: false } } }, true, true],
    ['user refused purpose 1', { gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents: { 1: false, 2: true } } }, true, false],
    ['no purposes', { gdprApplies: true, eventStatus: 'tcloaded' }, true, false],
    ['call failed', { gdprApplies: false }, false, null],
    ['no data', null, true, null],
  ])('%s', (_, data, success, expected) => {
    expect(readTcf(data as never, success)).toBe(expected);
  });
});

describe('Google Consent Mode', () => {
  it.each<[string, unknown[], boolean | null]>([
    ['no consent entries', [{ event: 'gtm.js' }], null],
    ['default denied', [args('consent', 'default', { analytics_storage: 'denied', ad_storage: 'denied' })], false],
    ['default granted', [args('consent', 'default', { analytics_storage: 'granted' })], true],
    ['denied then updated to granted', [args('consent', 'default', { analytics_storage: 'denied' }), args('consent', 'update', { analytics_storage: 'granted' })], true],
    ['granted then revoked', [args('consent', 'default', { analytics_storage: 'granted' }), args('consent', 'update', { analytics_storage: 'denied' })], false],
    ['an update without analytics_storage keeps the last answer', [args('consent', 'default', { analytics_storage: 'denied' }), args('consent', 'update', { ad_storage: 'granted' })], false],
    ['plain objects are not gtag consent calls', [{ 0: 'consent', 1: 'default' }], null],
  ])('%s', (_, entries, expected) => {
    expect(readConsentMode(entries)).toBe(expected);
  });
});
