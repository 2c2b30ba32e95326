import { afterEach, describe, expect, it } from 'vitest';
import { toJson } from '../../src/util/json';

describe('toJson', () => {
  it.each<[string, unknown]>([
    ['object', { a: 1, b: 'x', c: [true, false, null], d: { e: -1.5 } }],
    ['escapes', { s: 'quote " backslash \\ newline \n tab \t control \u0001 line \u2028 emoji 😀 </script>' }],
    ['empty', { a: [], b: {} }],
    ['array', [1, 'two', [3]]],
    ['unicode keys', { 'ключ': 'значение', '': 0 }],
  ])('matches JSON.stringify for %s', (_, value) => {
    expect(JSON.parse(toJson(value))).toEqual(value);
    expect(toJson(value)).toBe(JSON.stringify(value));
  });

  it('writes non-finite numbers as null and drops undefined and functions, as JSON does', () => {
    expect(toJson({ a: NaN, b: Infinity, c: undefined, d: () => 1, e: [undefined] })).toBe('{"a":null,"b":null,"e":[null]}');
  });

  describe('on a page that broke JSON', () => {
    const arrayToJson = Object.getOwnPropertyDescriptor(Array.prototype, 'toJSON');
    afterEach(() => {
      if (arrayToJson) Object.defineProperty(Array.prototype, 'toJSON', arrayToJson);
      else delete (Array.prototype as { toJSON?: unknown }).toJSON;
    });

    it('ignores Prototype.js Array.prototype.toJSON and leaves it in place', () => {
      // Prototype 1.6: arrays serialise to a string.
      (Array.prototype as { toJSON?: unknown }).toJSON = function (this: unknown[]) {
        return '"[' + this.join(',') + ']"';
      };
      expect(JSON.stringify([1])).not.toBe('[1]');
      expect(toJson({ list: [1, 2] })).toBe('{"list":[1,2]}');
      expect(typeof (Array.prototype as { toJSON?: unknown }).toJSON).toBe('function');
    });

    it('does not use a replaced JSON.stringify', () => {
      const original = JSON.stringify;
      JSON.stringify = () => {
        throw new Error('host broke it');
      };
      try {
        expect(toJson({ a: [1] })).toBe('{"a":[1]}');
      } finally {
        JSON.stringify = original;
      }
    });
  });
});
