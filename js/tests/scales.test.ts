import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  NEGATIVE_STOPS, cividis, contrastColor, contrastRatio, domain, extent, fmt, fmtP, headColor, hexToRgb, luminance, mix,
  negative, normalizer, ownRange, rgbToHex, scoreColour, viridis,
} from "../src/scales";

/** Expected colours written from headlab/views/scales.py (the Python twin checks the same file). */
const CASES = JSON.parse(readFileSync(new URL("./scale-cases.json", import.meta.url), "utf-8")) as {
  colour: [number | null, number, number, string][];
  ramps: [number, string, string][];
  domain: [string, (number | null)[] | null, [number, number]][];
};

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

  it("contrast colour picks black on light and white on dark cells, at least 4.5:1 on any background", () => {
    expect(contrastColor(viridis(1))).toBe("#000000");
    expect(contrastColor(viridis(0))).toBe("#ffffff");
    for (let i = 0; i <= 255; i += 3) {
      for (const bg of [[i, i, i], [i, 255 - i, 128], [255, i, 0]] as [number, number, number][]) {
        expect(contrastRatio(hexToRgb(contrastColor(bg)), bg)).toBeGreaterThanOrEqual(4.5);
      }
    }
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

  it("gives the colours headlab/views/scales.py gives (js/tests/scale-cases.json)", () => {
    expect(CASES.colour.length).toBeGreaterThan(200);
    for (const [v, lo, hi, want] of CASES.colour) expect([v, lo, hi, scoreColour(v ?? NaN, lo, hi)]).toEqual([v, lo, hi, want]);
    for (const [t, vir, neg] of CASES.ramps) expect([t, rgbToHex(viridis(t)), rgbToHex(negative(t))]).toEqual([t, vir, neg]);
    for (const [kind, values, want] of CASES.domain)
      expect([kind, domain(kind, values === null ? undefined : values.map((v) => v ?? NaN))]).toEqual([kind, want]);
  });

  it("keeps a random model's tiny lifts at the bottom of the fixed lift scale", () => {
    const [lo, hi] = domain("lift", [3e-6, -3e-6, 2e-6]);
    expect([lo, hi]).toEqual([-1, 1]);
    expect(scoreColour(3e-6, lo, hi)).toBe(rgbToHex(viridis(0)));
    expect(scoreColour(-3e-6, lo, hi)).toBe(NEGATIVE_STOPS[0]);
    expect(ownRange("lift")).toBe(false);
    expect(ownRange("own")).toBe(true);
    expect(ownRange(undefined)).toBe(true);
  });

  it("runs the negative ramp from dark just below 0 to light at -1", () => {
    const l = (v: number) => luminance(hexToRgb(scoreColour(v, -1, 1)));
    expect(Math.abs(l(-0.01) - l(0))).toBeLessThan(0.02);           // -0.01 looks almost like 0
    let prev = l(-0.001);
    for (let i = 1; i <= 20; i++) { const cur = l(-i / 20); expect(cur).toBeGreaterThan(prev); prev = cur; }
    expect(l(-1)).toBeGreaterThan(0.6);
    expect(scoreColour(NaN, -1, 1)).toBe("#9e9e9e");
  });
});
