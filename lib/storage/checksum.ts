import * as zlib from 'node:zlib';

/** CRC-32 (zlib's, native since Node 20.15), optionally continuing from an earlier value. */
export const crc32: (data: Uint8Array, initial?: number) => number = zlib.crc32;
