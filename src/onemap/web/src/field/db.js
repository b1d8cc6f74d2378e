// The phone's own store (IndexedDB): downloaded tasks and the queue of submissions. Everything
// survives a reload or a restart of the app; a submission leaves the queue only when the server
// has answered it.

const DB_NAME = 'onemap-field';
const VERSION = 1;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
      if (!db.objectStoreNames.contains('queue')) db.createObjectStore('queue', { keyPath: 'id' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;
function db() {
  if (!dbPromise) dbPromise = open();
  return dbPromise;
}

async function run(storeName, mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(storeName, mode);
    const store = tx.objectStore(storeName);
    let result;
    const req = fn(store);
    if (req) req.onsuccess = () => { result = req.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const getValue = (key) => run('kv', 'readonly', (s) => s.get(key));
export const setValue = (key, value) => run('kv', 'readwrite', (s) => s.put(value, key));
export const queueAll = () => run('queue', 'readonly', (s) => s.getAll());
export const queuePut = (item) => run('queue', 'readwrite', (s) => s.put(item));
export const queueDelete = (id) => run('queue', 'readwrite', (s) => s.delete(id));
