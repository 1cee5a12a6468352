// Explanations where the numbers are, thumbnails, tooltip placement, keyboard moves, theme
// colours and the one head name: the pure parts of issue #15's front end.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ARC_LEGEND, tokenMove } from "../src/arcs";
import { tipPosition } from "../src/dom";
import { cellLabel, cellTip, ciText, correctionName, qText, roleHelp, scoreMeaning, whyMissing } from "../src/explain";
import { rankLine, type RoleRank } from "../src/explorer";
import { cellStats, roleStats, thumbPixels, thumbScale } from "../src/grid";
import { painter } from "../src/matrix";
import { hexToRgb, parseCssColour, rgbToHex, scoreColour, viridis } from "../src/scales";
import { decodeSparse } from "../src/sparse";

const INFO = {
  method: "lift", kinds: { local: "lift", sink: "share" }, correction: "fdr_bh", ci_level: 0.95,
  descriptions: { local: "keys within ±2 positions, itself included" },
};

describe("explanations", () => {
  it("names a cell as the issue asks: head, role, score, CI, q, significance", () => {
    const c = { score: 0.42, ci_low: 0.38, ci_high: 0.46, p: 1e-6, q: 2e-5, sig: true, n: 656 };
    expect(cellLabel("L3H5", "local", c, true)).toBe("L3H5 local: 0.42 [0.38, 0.46], q < 1e-4, significant");
    expect(cellLabel("L3H5", "local", { ...c, q: 0.2, sig: false }, true)).toBe("L3H5 local: 0.42 [0.38, 0.46], q = 0.2, not significant");
    expect(cellLabel("L0H1", "cls", { score: 0.3 }, false)).toBe("L0H1 cls: 0.3 (on this text, no test)");
    expect(cellLabel("L0H1", "cls", { score: NaN }, true)).toBe("L0H1 cls: no score");
  });

  it("says why a CI or q is missing, with n: n/a (n = 1), never n/a – n/a", () => {
    const one = { score: 0.5, ci_low: NaN, ci_high: NaN, q: NaN, sig: false, n: 1 };
    expect(ciText(NaN, NaN, 1)).toBe("n/a (n = 1)");
    expect(qText(NaN, 1)).toBe("q n/a (n = 1)");
    expect(whyMissing(5)).toBe("no test (same score on all 5 samples)");
    expect(whyMissing(undefined)).toBe("n/a");
    const label = cellLabel("L1H2", "sep", one, true);
    expect(label).toBe("L1H2 sep: 0.5 n/a (n = 1), q n/a (n = 1), not significant");
    const tip = cellTip("L1H2", "sep", one, INFO, true, 0.05).map((l) => (typeof l === "string" ? l : l[0])).join("\n");
    expect(tip).toContain("95% CI n/a (n = 1)");
    expect(tip).not.toMatch(/n\/a\s*[–-]\s*n\/a/);
  });

  it("tooltips say what 0 and 1 mean, that the CI is a 95% bootstrap, that q is the BH-adjusted p, and what n is", () => {
    const c = { score: 0.42, ci_low: 0.38, ci_high: 0.46, p: 1e-3, q: 0.008, sig: true, n: 30 };
    const lines = cellTip("L2H1", "local", c, INFO, true, 0.05);
    const text = lines.map((l) => (typeof l === "string" ? l : l[0]));
    expect(text[0]).toBe("L2H1 · local");
    expect(text[1]).toBe("lift 0.42 · 95% CI [0.38, 0.46] · n = 30");
    expect(text[2]).toBe("p 0.001 · q = 0.008 · significant (q < 0.05)");
    const help = lines.filter((l) => typeof l !== "string").map((l) => l[0]).join("\n");
    expect(help).toContain("0 = attention as if uniform over the keys the query sees, 1 = all of it on the role's keys");
    expect(help).toContain("95% bootstrap interval");
    expect(help).toContain("Benjamini–Hochberg-adjusted p");
    expect(help).toContain("n: the samples (texts) the role applied to");
    expect(lines.filter((l) => typeof l !== "string").every((l) => l[1] === "headlab-tip-help")).toBe(true);
    // per-text scores: no CI, no test, and it says so
    const one = cellTip("L2H1", "local", { score: 0.3 }, INFO, false, 0.05).map((l) => (typeof l === "string" ? l : l[0]));
    expect(one[1]).toBe("lift 0.3 on this text (one text: no CI, no test)");
  });

  it("explains every kind of score and every correction", () => {
    expect(scoreMeaning("share", "probe")).toContain("0 = none, 1 = all");
    expect(scoreMeaning("own", "pande")).toContain("1 = uniform");
    expect(scoreMeaning(undefined, "")).toContain("this role's range");
    expect(correctionName("holm")).toContain("Holm");
    expect(correctionName("")).toContain("Benjamini–Hochberg");
  });

  it("explains the selected role's sieve in one line, from the registry's description", () => {
    const line = roleHelp("local", INFO);
    expect(line).toBe("local: each query's sieve is keys within ±2 positions, itself included. Lift: 0 = attention as if uniform " +
      "over the keys the query sees, 1 = all of it on the role's keys; below 0 (orange) = less than uniform, the head avoids them.");
    expect(line.split("\n")).toHaveLength(1);
    expect(roleHelp("unknown", {})).toBe("unknown: score with no fixed range: colours span this role's range.");
  });

  it("writes a head card line with the effect first, then significance and rank", () => {
    const r: RoleRank = { role: "local", score: 0.42, rank: 1, of: 72, sig: true, ci_low: 0.38, ci_high: 0.46, n: 656 };
    expect(rankLine(r, true)).toBe("local 0.42 [0.38, 0.46] ● significant · rank 1 of 72 heads");
    expect(rankLine({ ...r, sig: false }, false)).toBe("local 0.42 · rank 1 of 72 heads");
  });

  it("reads n and every field of a cell from the grid block", () => {
    const fields = ["score", "ci_low", "ci_high", "p", "q", "sig", "n"];
    const all = new Float32Array(7 * 2).fill(NaN);
    all.set([0.5, 0.7], 0); all.set([1, 0], 10); all.set([1, 30], 12);
    const st = roleStats(all, [1, 7, 1, 2], fields, 0);
    expect(cellStats(st, 0)).toMatchObject({ score: 0.5, sig: true, n: 1 });
    expect(cellStats(st, 1).n).toBe(30);
  });
});

describe("thumbnails", () => {
  it("draws every head's blocks on the share scale, one cell per head with a gap", () => {
    const L = 1, H = 2, S = 2, k = 3;
    const data = new Uint8Array([0, 255, 128, 0, /* head 1 */ 255, 255, 255, 255]);
    const { width, height, rgba } = thumbPixels(data, L, H, S, k);
    const c = S * k + 2;
    expect([width, height]).toEqual([H * c, L * c]);
    const px = (x: number, y: number) => rgbToHex([rgba[(y * width + x) * 4], rgba[(y * width + x) * 4 + 1], rgba[(y * width + x) * 4 + 2]]);
    expect(px(1, 1)).toBe(scoreColour(0, 0, 1));                   // head 0, block (0, 0)
    expect(px(1 + k, 1)).toBe(scoreColour(1, 0, 1));               // block (0, 1): all attention
    expect(px(1, 1 + k)).toBe(scoreColour(128 / 255, 0, 1));
    expect(px(c + 1 + k, 1 + k)).toBe(rgbToHex(viridis(1)));       // head 1
    expect(rgba[3]).toBe(0);                                       // the gap stays transparent
    expect(thumbScale(12, 16)).toBe(3);
    expect(thumbScale(64, 16)).toBe(1);
  });
});

describe("tooltip placement", () => {
  it("puts the tooltip's corner inside the box it explains, flipping at the container's edge", () => {
    const cell = { left: 100, top: 300, right: 120, bottom: 320 };
    const origin = { left: 50, top: 0 };
    const p = tipPosition(cell, origin, { w: 150, h: 60 }, { w: 800, h: 0 });
    const x = p.x + origin.left, y = p.y + origin.top;
    expect(x >= cell.left && x <= cell.right && y >= cell.top && y <= cell.bottom).toBe(true);
    const q = tipPosition({ left: 760, top: 10, right: 780, bottom: 30 }, origin, { w: 150, h: 60 }, { w: 760, h: 0 });
    const right = q.x + origin.left + 150;                             // flipped: its top-right corner is in the cell
    expect(right >= 760 && right <= 780).toBe(true);
  });
});

describe("keyboard in the attention view", () => {
  it("moves along the text in arcs and within or across sides in lines", () => {
    expect(tokenMove(3, null, "ArrowRight", 0, 10)).toEqual([4, null]);
    expect(tokenMove(0, null, "ArrowLeft", 0, 10)).toEqual([0, null]);
    expect(tokenMove(9, null, "ArrowDown", 0, 10)).toEqual([9, null]);
    expect(tokenMove(5, null, "Home", 2, 10)).toEqual([2, null]);
    expect(tokenMove(5, "query", "ArrowDown", 0, 10)).toEqual([6, "query"]);
    expect(tokenMove(5, "query", "ArrowRight", 0, 10)).toEqual([5, "key"]);
    expect(tokenMove(5, null, "a", 0, 10)).toBeNull();
    expect(ARC_LEGEND).toContain("from a query token to the key it attends to");
    expect(ARC_LEGEND).toContain("above the tokens: earlier keys");
  });
});

describe("themes", () => {
  it("blends overlaid heads over the theme's background, not over white", () => {
    const one = (k: number, w: number) => decodeSparse({
      n: 2, key_dtype: "uint16", weight_dtype: "float16", mass: 0.9, k_max: 1, kept_mean: 1, kept_min: 1,
      counts: new Uint8Array([1, 1]), keys: new Uint8Array([k, 0, k, 0]), weights: new Uint8Array(halves(w)), scale: new Uint8Array(0),
    });
    const dark: [number, number, number] = [17, 17, 17];
    const paint = painter([one(0, 1), one(1, 1)], dark);
    expect(paint([0, 0])).toEqual(dark);                    // no weight: the page's own colour
    expect(painter([one(0, 1), one(1, 1)])([0, 0])).toEqual([255, 255, 255]);
    expect(parseCssColour("rgb(17, 17, 17)")).toEqual([17, 17, 17]);
    expect(parseCssColour("rgba(0, 0, 0, 0)")).toBeNull();
    expect(parseCssColour("#0a0b0c")).toEqual(hexToRgb("#0a0b0c"));
  });
});

/** float16 bits of w for two entries (little-endian), for a tiny sparse pattern. */
function halves(w: number): number[] {
  const bits = w === 1 ? 0x3c00 : 0;
  return [bits & 0xff, bits >> 8, bits & 0xff, bits >> 8];
}

describe("one head name", () => {
  it("builds head names only through protocol.headKey (L{l}H{h}), never L1.8 or other forms", () => {
    const dir = new URL("../src/", import.meta.url);
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".ts"))) {
      const text = readFileSync(new URL(f, dir), "utf-8");
      const built = text.match(/`L\$\{[^`]*\}H\$\{/g) ?? [];
      expect([f, built.length]).toEqual([f, f === "protocol.ts" ? 1 : 0]);
      expect([f, /`[^`]*\$\{[^}]*\}\.\$\{[^}]*\}`/.test(text.replace(/\.\.\./g, ""))]).toEqual([f, false]);
    }
  });
});
