import { ErrorCode, SedimentError } from '../errors.js';

/**
 * Tree shape. Nodes are sized by their estimated encoded bytes: a leaf splits above `pageSize`;
 * a branch keeps at most `bufferBytes` of pending operations and at most `pageSize - bufferBytes`
 * of pivots and child ids. Defaults were chosen by measurement (tools/bench-tree.ts; see
 * ARCHITECTURE.md, "Tree parameters").
 */
export interface TreeParams {
  readonly pageSize: number;
  readonly bufferBytes: number;
}

export const DEFAULT_TREE_PARAMS: TreeParams = { pageSize: 4096, bufferBytes: 3072 };

export function checkTreeParams(params: TreeParams): TreeParams {
  const { pageSize, bufferBytes } = params;
  if (!Number.isInteger(pageSize) || !Number.isInteger(bufferBytes) || pageSize < 16 || bufferBytes < 0 || bufferBytes >= pageSize) {
    throw new SedimentError(
      ErrorCode.invalidArgument,
      `invalid tree parameters: pageSize ${pageSize} must be an integer >= 16 and bufferBytes ${bufferBytes} an integer in [0, pageSize)`,
    );
  }
  return params;
}
