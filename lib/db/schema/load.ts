/**
 * The schema held by an index state, read back from its datoms: every entity with a `db/ident`
 * (beyond the built-ins, which every schema starts with) is installed as its transaction did.
 */
import type { Snapshot } from '../read/snapshot.js';
import { schemaAfter } from './install.js';
import { BuiltIn, FIRST_FREE_ID, Schema } from './schema.js';

export function loadSchema(snapshot: Snapshot): Schema {
  let schema = Schema.builtIn();
  for (const ident of snapshot.scan('aevt', { a: BuiltIn.ident })) {
    if (ident.e < FIRST_FREE_ID) continue;
    schema = schemaAfter(schema, [...snapshot.scan('eavt', { e: ident.e })], ident.tx);
  }
  return schema;
}
