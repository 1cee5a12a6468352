import { describe, expect, it } from "vitest";
import { cividis, contrastColor, extent, fmt, fmtP, headColor, hexToRgb, luminance, mix, normalizer, rgbToHex, viridis } from "../src/scales";

describe("scales", () => {
  it("viridis hits its end points and is monotone in luminance", () => {
    expect(rgbToHex(viridis(0))).toBe("#440154");
    expect(rgbToHex(viridis(1))).toBe("#fde725");
    expect(rgbToHex(viridis(0.5))).toBe("#21918c");
    let prev = -1;
    for (let i = 0; i <= 20; i++) {
      const l = luminance(viridis(i / 20));
      expect(l).toBeGreaterThan(prev);
      prev = l;
    }
  });

  it("clamps out-of-range and NaN input", () => {
    expect(viridis(-3)).toEqual(viridis(0));
    expect(viridis(7)).toEqual(viridis(1));
    expect(viridis(NaN)).toEqual(viridis(0));
  });

  it("cividis runs dark blue to yellow", () => {
    const a = cividis(0), b = cividis(1);
    expect(a[2]).toBeGreaterThan(a[0]);
    expect(b[0]).toBeGreaterThan(240);
    expect(luminance(b)).toBeGreaterThan(luminance(a));
  });

  it("extent ignores NaN; normalizer clamps and handles a flat domain", () => {
    expect(extent([NaN, 2, -1, 5, NaN])).toEqual([-1, 5]);
    expect(extent([NaN])).toEqual([0, 1]);
    const n = normalizer(2, 4);
    expect(n(3)).toBe(0.5);
    expect(n(10)).toBe(1);
    expect(normalizer(1, 1)(1)).toBe(0.5);
  });

  it("contrast colour picks black on light and white on dark cells", () => {
    expect(contrastColor(viridis(1))).toBe("#000000");
    expect(contrastColor(viridis(0))).toBe("#ffffff");
  });

  it("head colours cycle through a colour-blind-safe palette", () => {
    expect(headColor(0)).toBe("#0072B2");
    expect(headColor(8)).toBe(headColor(0));
    expect(headColor(-1)).toBe(headColor(7));
    expect(new Set(Array.from({ length: 8 }, (_, i) => headColor(i))).size).toBe(8);
  });

  it("mix and hex conversion", () => {
    expect(mix([0, 0, 0], [255, 255, 255], 0.5)).toEqual([127.5, 127.5, 127.5]);
    expect(hexToRgb("#0a0b0c")).toEqual([10, 11, 12]);
  });

  it("formats numbers, p-values and head labels", () => {
    expect(fmt(0.123456)).toBe("0.123");
    expect(fmt(NaN)).toBe("–");
    expect(fmt(0.00001234)).toBe("1.2e-5");
    expect(fmtP(0.00001)).toBe("< 1e-4");
    expect(fmtP(0.0312)).toBe("0.0312");
  });
});
