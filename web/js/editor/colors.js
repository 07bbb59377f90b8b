// Instance colours: one per layout position, shared by the canvas, the list and the swatches.
// Helper module: only exports, no side effects (the frontend imports every .js file it serves).

// Twelve hues picked to stay apart from each other and readable on dark and light backgrounds.
const PALETTE = [
  "#ff5a5f", "#3fa7ff", "#ffd23f", "#3ddc84", "#c77dff", "#ff9f1c",
  "#2ec4b6", "#ff6fb5", "#9bc53d", "#5a7bff", "#e4572e", "#00c2d1",
];

/** Colour of instance `index` (0-based); beyond the palette the hue keeps rotating. */
export function instanceColor(index) {
  if (index < PALETTE.length) return PALETTE[index];
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue}, 80%, 60%)`;
}

/** Same colour with an alpha, for fills. */
export function instanceFill(index, alpha) {
  const c = instanceColor(index);
  if (c.startsWith("#")) {
    const n = parseInt(c.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  return c.replace("hsl(", "hsla(").replace(")", `, ${alpha})`);
}

/** Black or white, whichever reads better on the instance colour (for the number badge). */
export function instanceInk(index) {
  const c = instanceColor(index);
  if (!c.startsWith("#")) return "#000";
  const n = parseInt(c.slice(1), 16);
  const lum = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 140 ? "#000" : "#fff";
}
