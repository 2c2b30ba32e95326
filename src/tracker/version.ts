/** The library version: in every beacon (`lib`) and in the collector's script ETags. */
export const VERSION = '0.1.0';
