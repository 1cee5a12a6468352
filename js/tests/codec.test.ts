import { describe, expect, it } from "vitest";
import { base64ToDataView, bytesOf, decodeFloat16, decodePacked, decodeUint8Rows, halfToFloat, toFloat32 } from "../src/codec";

/** A DataView at a non-zero byte offset inside a larger buffer, as comm buffers may be. */
function windowed(bytes: Uint8Array, offset: number): DataView {
  const big = new Uint8Array(bytes.length + offset + 3);
  big.set(bytes, offset);
  return new DataView(big.buffer, offset, bytes.length);
}

describe("codec", () => {
  it("reads float32 through a DataView with a non-zero, aligned offset (zero-copy)", () => {
    const src = new Float32Array([1.5, -2, 3.25]);
    const dv = windowed(new Uint8Array(src.buffer), 8);
    const out = toFloat32(dv);
    expect(Array.from(out)).toEqual([1.5, -2, 3.25]);
    expect(out.buffer).toBe(dv.buffer);
  });

  it("copies when the offset is not 4-aligned", () => {
    const src = new Float32Array([0.25, 7]);
    const out = toFloat32(windowed(new Uint8Array(src.buffer), 5));
    expect(Array.from(out)).toEqual([0.25, 7]);
  });

  it("rejects a float32 buffer whose length is not a multiple of 4", () => {
    expect(() => toFloat32(new Uint8Array(6))).toThrow();
  });

  it("decodes IEEE half precision, including subnormals and specials", () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 4);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(halfToFloat(0x0000)).toBe(0);
  });

  it("decodes float16 little-endian bytes at an odd offset", () => {
    const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0x38, 0x00, 0x00]); // 1, 0.5, 0
    expect(Array.from(decodeFloat16(windowed(bytes, 3)))).toEqual([1, 0.5, 0]);
  });

  it("decodes row-scaled uint8", () => {
    const q = new Uint8Array([255, 0, 51, 255]);
    const out = decodeUint8Rows(q, new Float32Array([0.5, 2]), 2);
    expect(Array.from(out).map((v) => +v.toFixed(4))).toEqual([0.5, 0, 0.4, 2]);
  });

  it("decodePacked checks the element count", () => {
    const buf = new Float32Array([1, 2, 3, 4]);
    expect(Array.from(decodePacked({ shape: [2, 2], dtype: "float32", buf: new DataView(buf.buffer) }))).toEqual([1, 2, 3, 4]);
    expect(() => decodePacked({ shape: [3, 2], dtype: "float32", buf: new DataView(buf.buffer) })).toThrow();
    expect(() => decodePacked({ shape: [2], dtype: "uint8", buf: new Uint8Array(2) })).toThrow(/scale/);
  });

  it("bytesOf respects the view window", () => {
    const dv = windowed(new Uint8Array([9, 8, 7]), 2);
    expect(Array.from(bytesOf(dv))).toEqual([9, 8, 7]);
  });

  it("base64ToDataView round-trips", () => {
    const dv = base64ToDataView(btoa(String.fromCharCode(0, 0, 128, 63)));
    expect(toFloat32(dv)[0]).toBe(1);
  });
});
