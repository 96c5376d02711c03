export function pseudoRandom(totalBytes: number): Generator<Buffer>;
