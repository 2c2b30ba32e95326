/** Standalone Ajv validator for schema/beacon.v1.json (generated). */
declare const validate: ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[] | null;
};
export default validate;
