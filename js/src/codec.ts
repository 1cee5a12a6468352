// Binary decoding of numpy arrays sent as comm buffers (DataViews that may be windows into a
// larger ArrayBuffer: byteOffset and byteLength always matter).

import type { Packed } from "./protocol";

export type Bytes = DataView | ArrayBuffer | Uint8Array | ArrayBufferView;

/** The exact bytes of a buffer-like value, as a Uint8Array view (no copy). */
export function bytesOf(b: Bytes): Uint8Array {
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  const v = b as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Float32 values of little-endian float32 bytes; zero-copy when aligned. */
export function toFloat32(b: Bytes): Float32Array {
  const u8 = bytesOf(b);
  if (u8.byteLength % 4 !== 0) throw new Error(`float32 buffer of ${u8.byteLength} bytes`);
  if (u8.byteOffset % 4 === 0) return new Float32Array(u8.buffer, u8.byteOffset, u8.byteLength / 4);
  return new Float32Array(u8.slice().buffer);
}

let HALF_TABLE: Float32Array | null = null;

/** IEEE 754 half-precision bits -> number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x03ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

/** Little-endian float16 bytes -> Float32Array. */
export function decodeFloat16(b: Bytes): Float32Array {
  const u8 = bytesOf(b);
  const n = u8.byteLength >> 1;
  const out = new Float32Array(n);
  const t = halfTable();
  for (let i = 0; i < n; i++) out[i] = t[u8[2 * i] | (u8[2 * i + 1] << 8)];
  return out;
}

/** uint8 quantised rows: value = byte / 255 * rowMax[row]. */
export function decodeUint8Rows(b: Bytes, rowMax: Float32Array, cols: number): Float32Array {
  const u8 = bytesOf(b);
  const out = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) out[i] = (u8[i] / 255) * rowMax[Math.floor(i / cols)];
  return out;
}

/** Decode a Packed array (float32, float16 or row-scaled uint8) to Float32Array. */
export function decodePacked(p: Packed): Float32Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  let out: Float32Array;
  if (p.dtype === "float32") out = toFloat32(p.buf);
  else if (p.dtype === "float16") out = decodeFloat16(p.buf);
  else if (p.dtype === "uint8") {
    if (!p.scale) throw new Error("uint8 array without row scale");
    const cols = p.shape[p.shape.length - 1] ?? 1;
    out = decodeUint8Rows(p.buf, toFloat32(p.scale), cols);
  } else throw new Error(`unsupported dtype ${(p as Packed).dtype}`);
  if (out.length !== n) throw new Error(`expected ${n} values, got ${out.length}`);
  return out;
}

/** Base64 -> DataView (for the static-export host). */
export function base64ToDataView(s: string): DataView {
  const bin = atob(s);
  const u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return new DataView(u8.buffer);
}
