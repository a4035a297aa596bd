/* Faults of IndexedDB for the unit tests (fake-indexeddb): a put that throws, as a tab killed
 * between two requests or a full quota makes it. */

/** Makes IndexedDB's put throw error() on its n-th call (0 first) from now; returns the undo. */
export function failingPut(n: number, error: () => unknown): () => void {
  const proto = IDBObjectStore.prototype;
  const put = proto.put;
  let calls = 0;
  proto.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore["put"]>) {
    if (calls++ === n) throw error();
    return put.apply(this, args);
  };
  return () => {
    proto.put = put;
  };
}

/** The DOMException a full quota throws. */
export const quotaExceeded = () => new DOMException("quota", "QuotaExceededError");
