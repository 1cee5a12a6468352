// Colour scales and number formatting: pure functions, no DOM.

export type RGB = [number, number, number];

// matplotlib viridis sampled at 0, 0.1, ..., 1.
const VIRIDIS: RGB[] = [
  "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
  "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
].map(hexToRgb);

export function hexToRgb(hex: string): RGB {
  const h = hex.replace("#", "");
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

export function rgbToHex([r, g, b]: RGB): string {
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0");
  return `#${c(r)}${c(g)}${c(b)}`;
}

const clamp01 = (t: number) => (Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0);

/** Viridis (perceptually uniform, colour-blind safe), piecewise linear between 11 stops. */
export function viridis(t: number): RGB {
  const x = clamp01(t) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
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

/** Relative luminance (WCAG) of an sRGB colour. */
export function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** Black or white, whichever reads better on top of `bg`. */
export function contrastColor(bg: RGB): string {
  return luminance(bg) > 0.22 ? "#000000" : "#ffffff";
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

