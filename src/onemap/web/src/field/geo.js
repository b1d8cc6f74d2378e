// Small geometry helpers for the phone (display only: the server measures evidence on the ellipsoid).

const R = 6371008.8;

/** Great-circle metres between two lon/lat points (for the "距任务" hint on screen). */
export function metres(a, b) {
  const p1 = (a[1] * Math.PI) / 180;
  const p2 = (b[1] * Math.PI) / 180;
  const dp = p2 - p1;
  const dl = ((b[0] - a[0]) * Math.PI) / 180;
  const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A representative point of a GeoJSON geometry (centre of its bbox, or the point itself). */
export function centre(geometry) {
  if (!geometry) return null;
  if (geometry.type === 'Point') return geometry.coordinates;
  const b = bbox(geometry);
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

export function bbox(geometry) {
  const out = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      out[0] = Math.min(out[0], c[0]); out[1] = Math.min(out[1], c[1]);
      out[2] = Math.max(out[2], c[0]); out[3] = Math.max(out[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return out;
}

/** SHA-256 (hex) of bytes with WebCrypto (needs a secure context: HTTPS or localhost). */
export async function sha256Hex(buffer) {
  if (!(globalThis.crypto && crypto.subtle)) {
    throw new Error('此浏览器环境不能计算照片指纹（需要 HTTPS 访问外业应用）');
  }
  const digest = await crypto.subtle.digest('SHA-256', buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Local ISO time with its UTC offset, e.g. 2026-12-03T10:15:00+08:00. */
export function localIso(d = new Date()) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:`
    + `${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}
