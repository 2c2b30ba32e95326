/** Generates the standalone validator source for schema/beacon.v1.json. */
export function generateValidator(): string;
