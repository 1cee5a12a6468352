// Colour scales and number formatting: pure functions, no DOM.
//
// The twin of headlab/views/scales.py: the same stops, the same function of value and domain, so
// a lift of 0.3 has one colour in the live grid, the SVG pictures and the HTML report.
// tests/unit/test_views_scales.py reads the stops below and js/tests/scales.test.ts and the
// Python test both check the cases in js/tests/scale-cases.json.
//
// lift: 0..1 on viridis, values below 0 on a separate orange ramp that runs from dark just below
// 0 (-0.01 looks almost like 0) to light peach at -1; share: 0..1; copying: -1..1; own: the
// role's own range, 0 included, said in every legend ("range of this role").

export type RGB = [number, number, number];

/** matplotlib's viridis at 0, 0.1, ..., 1 */
export const VIRIDIS_STOPS = [
  "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
  "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
];
/** below zero: from just below 0 (dark) to the bottom of the domain (light); ColorBrewer Oranges */
export const NEGATIVE_STOPS = ["#3d0a12", "#7f2704", "#a63603", "#d94801", "#f16913", "#fd8d3c", "#fdae6b", "#fdd0a2"];
/** cells without a score */
export const NAN_COLOUR = "#9e9e9e";
/** fixed colour domains [low, high] by score kind; other kinds ("own") span their values */
export const FIXED_DOMAINS: Record<string, [number, number]> = { lift: [-1, 1], share: [0, 1], copying: [-1, 1] };

const VIRIDIS: RGB[] = VIRIDIS_STOPS.map(hexToRgb);
const NEGATIVE: RGB[] = NEGATIVE_STOPS.map(hexToRgb);

export function hexToRgb(hex: string): RGB {
  const h = hex.replace("#", "");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export function rgbToHex([r, g, b]: RGB): string {
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");
  return `#${c(r)}${c(g)}${c(b)}`;
}

const clamp01 = (t: number) => (Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0);

function ramp(stops: RGB[], t: number): RGB {
  const x = clamp01(t) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Viridis (perceptually uniform, colour-blind safe), piecewise linear between 11 stops. */
export function viridis(t: number): RGB {
  return ramp(VIRIDIS, t);
}

/** The below-zero ramp at t in [0, 1]: 0 just below zero (dark), 1 at the bottom of the domain (light). */
export function negative(t: number): RGB {
  return ramp(NEGATIVE, t);
}

/** The colour domain of a score kind; "own" (or an unknown kind) spans the finite values, 0 included. */
export function domain(kind: string | undefined, values?: ArrayLike<number>): [number, number] {
  const fixed = kind ? FIXED_DOMAINS[kind] : undefined;
  if (fixed) return [fixed[0], fixed[1]];
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < (values?.length ?? 0); i++) {
    const v = values![i];
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  if (lo > hi) return [0, 1];
  lo = Math.min(0, lo); hi = Math.max(0, hi);
  return hi - lo > 1e-12 ? [lo, hi] : [lo, lo + 1];
}

/** Whether a kind's domain is the values' own range (the legend says "range of this role"). */
export const ownRange = (kind: string | undefined): boolean => !(kind && FIXED_DOMAINS[kind]);

/**
 * The colour of one score as #rrggbb: viridis from max(low, 0) to high for values >= 0, the
 * negative ramp from 0 down to low for values < 0, grey for NaN (scales.colour in Python).
 */
export function scoreColour(v: number | null | undefined, low = 0, high = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NAN_COLOUR;
  if (v < 0 && 0 <= high && low < 0) return rgbToHex(negative(v / low));
  const start = low < 0 ? Math.max(low, 0) : low;
  const span = high - start;
  return rgbToHex(viridis(span > 0 ? (v - start) / span : 0.5));
}

/** Cividis (designed for colour-vision deficiency); polynomial fit as in d3-scale-chromatic. */
export function cividis(t: number): RGB {
  t = clamp01(t);
  const r = -4.54 - t * (35.34 - t * (2381.73 - t * (6402.7 - t * (7024.72 - t * 2710.57))));
  const g = 32.49 + t * (170.73 + t * (52.82 - t * (131.46 - t * (176.58 - t * 67.37))));
  const b = 81.24 + t * (442.36 - t * (2482.43 - t * (6167.24 - t * (6614.94 - t * 2475.67))));
  const c = (v: number) => Math.max(0, Math.min(255, v));
  return [c(r), c(g), c(b)];
}

export type Ramp = (t: number) => RGB;
export const RAMPS: Record<string, Ramp> = { viridis, cividis };

/** Finite min and max of values (ignoring NaN); [0, 1] when nothing is finite. */
export function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** Linear map from [lo, hi] to [0, 1], clamped; a degenerate domain maps to 0.5. */
export function normalizer(lo: number, hi: number): (v: number) => number {
  const span = hi - lo;
  return (v) => (span > 0 ? clamp01((v - lo) / span) : 0.5);
}

/** A computed CSS colour ("rgb(17, 17, 17)", "rgba(...)", "#rrggbb") as RGB; null when unreadable or transparent. */
export function parseCssColour(css: string | null | undefined): RGB | null {
  if (!css) return null;
  const hex = css.trim().match(/^#([0-9a-f]{6})$/i);
  if (hex) return hexToRgb(hex[0]);
  const m = css.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
  if (p.length < 3 || p.slice(0, 3).some((x) => !Number.isFinite(x))) return null;
  if (p.length > 3 && p[3] === 0) return null;
  return [p[0], p[1], p[2]];
}

/** Relative luminance (WCAG) of an sRGB colour. */
export function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours (1 to 21). */
export function contrastRatio(a: RGB, b: RGB): number {
  const x = luminance(a), y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/**
 * Black or white, whichever reads better on top of `bg`: above a luminance of 0.179 black has
 * the higher contrast (both give 4.58:1 there), so either choice is at least 4.58:1.
 */
export function contrastColor(bg: RGB): string {
  return luminance(bg) > 0.179 ? "#000000" : "#ffffff";
}

/** Okabe-Ito palette (colour-blind safe) without black, for overlaid heads. */
export const HEAD_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#999999"];
export function headColor(i: number): string {
  return HEAD_COLORS[((i % HEAD_COLORS.length) + HEAD_COLORS.length) % HEAD_COLORS.length];
}

/** Blend `fg` over `bg` with weight t in [0, 1]. */
export function mix(bg: RGB, fg: RGB, t: number): RGB {
  const a = clamp01(t);
  return [bg[0] + (fg[0] - bg[0]) * a, bg[1] + (fg[1] - bg[1]) * a, bg[2] + (fg[2] - bg[2]) * a];
}

/** Compact number for tooltips: 3 significant digits, scientific when tiny. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

/** p / q values: "< 1e-4" below a floor. */
export function fmtP(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v < 1e-4) return "< 1e-4";
  return fmt(v);
}

