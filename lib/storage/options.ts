import { z } from 'zod';
import { ErrorCode, SedimentError } from '../errors.js';

/** The default page cache: enough for the inner nodes of a few million datoms. */
export const DEFAULT_CACHE_BYTES = 64 << 20;
/** Target encoded size of a tree node, fixed in the file header at creation. */
export const DEFAULT_PAGE_SIZE = 4096;

const openOptionsSchema = z
  .object({
    create: z.boolean().default(false),
    readOnly: z.boolean().default(false),
    durability: z.enum(['full', 'relaxed']).default('full'),
    cacheBytes: z.number().int().nonnegative().default(DEFAULT_CACHE_BYTES),
  })
  .strict()
  .refine((o) => !(o.create && o.readOnly), { message: 'create and readOnly cannot be combined' });

export type OpenOptions = z.input<typeof openOptionsSchema>;
export type ResolvedOpenOptions = z.output<typeof openOptionsSchema>;

/** Validates options at the API edge, naming the offending option in the error. */
export function resolveOpenOptions(options: unknown): ResolvedOpenOptions {
  const parsed = openOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `option '${issue.path.join('.')}'` : 'options';
  throw new SedimentError(ErrorCode.invalidArgument, `invalid ${where}: ${issue?.message ?? 'malformed'}`);
}
