/** Browser storage for drafts: IndexedDB (large masks fit), falling back to localStorage. */

import type { KeyValueStore } from "../../core/offline";
import { MemoryStore } from "../../core/offline";

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error("IndexedDB request failed"));
  });
}

class IdbStore implements KeyValueStore {
  constructor(private readonly db: IDBDatabase) {}
  private store(mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction("kv", mode).objectStore("kv");
  }
  async get(key: string): Promise<string | null> {
    const v: unknown = await req(this.store("readonly").get(key));
    return typeof v === "string" ? v : null;
  }
  async set(key: string, value: string): Promise<void> {
    const tx = this.db.transaction("kv", "readwrite");
    tx.objectStore("kv").put(value, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error("IndexedDB write failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB write aborted"));
    });
  }
  async delete(key: string): Promise<void> {
    await req(this.store("readwrite").delete(key));
  }
}

class LocalStore implements KeyValueStore {
  get(key: string): Promise<string | null> {
    return Promise.resolve(localStorage.getItem(key));
  }
  set(key: string, value: string): Promise<void> {
    localStorage.setItem(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    localStorage.removeItem(key);
    return Promise.resolve();
  }
}

export async function openDraftStorage(): Promise<KeyValueStore> {
  try {
    const open = indexedDB.open("spinelabel", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("kv");
    return new IdbStore(await req(open));
  } catch {
    try {
      localStorage.setItem("spinelabel:probe", "1");
      localStorage.removeItem("spinelabel:probe");
      return new LocalStore();
    } catch {
      return new MemoryStore();
    }
  }
}
