import { monotonicFactory } from 'ulid';

/** Injected id source (ULIDs in production; tests may pin them). */
export interface IdGen {
  next(): string;
}

const ulid = monotonicFactory();

/** ULIDs: sortable by creation time, 26 characters of Crockford base32. */
export const ulidGen: IdGen = { next: () => ulid() };
