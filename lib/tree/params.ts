import { ErrorCode, SedimentError } from '../errors.js';

/**
 * Tree shape. Nodes are sized by their estimated encoded bytes: a leaf splits above `pageSize`;
 * a branch keeps at most `pageSize - bufferBytes` of pivots and child ids and at most
 * `maxChildren` children (when given), and its buffer holds at least `bufferBytes` of pending
 * operations, or whatever its pivots and child ids leave of the page if that is more. Defaults
 * were chosen by measurement (tools/bench-tree.ts; see ARCHITECTURE.md, "Tree parameters").
 */
export interface TreeParams {
  readonly pageSize: number;
  readonly bufferBytes: number;
  /** The most children a branch has (at least 4); without it only bytes limit the fan-out. */
  readonly maxChildren?: number;
}

export const DEFAULT_TREE_PARAMS: TreeParams = { pageSize: 4096, bufferBytes: 3072, maxChildren: 32 };

/** The fan-out cap of `params`: unbounded when not given. */
export const maxChildrenOf = (params: TreeParams): number => params.maxChildren ?? Number.POSITIVE_INFINITY;

export function checkTreeParams(params: TreeParams): TreeParams {
  const { pageSize, bufferBytes, maxChildren } = params;
  if (!Number.isInteger(pageSize) || !Number.isInteger(bufferBytes) || pageSize < 16 || bufferBytes < 0 || bufferBytes >= pageSize) {
    throw new SedimentError(
      ErrorCode.invalidArgument,
      `invalid tree parameters: pageSize ${pageSize} must be an integer >= 16 and bufferBytes ${bufferBytes} an integer in [0, pageSize)`,
    );
  }
  if (maxChildren !== undefined && (!Number.isInteger(maxChildren) || maxChildren < 4)) {
    throw new SedimentError(ErrorCode.invalidArgument, `invalid tree parameters: maxChildren ${maxChildren} must be an integer >= 4`);
  }
  return params;
}
