/** A JSON value, as the OpenAPI document is written. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = { [key: string]: Json };
