// The package ships no type declarations; these cover the two calls Sediment uses.
declare module 'fs-native-extensions' {
  /** flock(2)-style lock on an open descriptor; false when another description holds it. */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number): void;
}
