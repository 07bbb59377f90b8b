// Instance colours: one per layout position, shared by the canvas, the list and the swatches.
// The sequence is deig_core/preview.py's instance_color (golden-ratio hue steps, HSV saturation
// 0.85, value 0.95), so instance N has the same colour in the editor and in the DEIG Preview
// Layout image (tests/unit/test_layout_parity.py compares the two).

const GOLDEN = 0.618033988749895;

/** [r, g, b] (0..255) of instance `index` (0-based), as Python's colorsys.hsv_to_rgb + int(). */
export function instanceRGB(index) {
  const h = (index * GOLDEN) % 1.0, s = 0.85, v = 0.95;
  const i = Math.floor(h * 6.0);
  const f = h * 6.0 - i;
  const p = v * (1.0 - s), q = v * (1.0 - s * f), t = v * (1.0 - s * (1.0 - f));
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return rgb.map((c) => Math.trunc(c * 255));
}

export function instanceColor(index) {
  const [r, g, b] = instanceRGB(index);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Same colour with an alpha, for fills. */
export function instanceFill(index, alpha) {
  const [r, g, b] = instanceRGB(index);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Black or white, whichever reads better on the instance colour (for the number badge). */
export function instanceInk(index) {
  const [r, g, b] = instanceRGB(index);
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000" : "#fff";
}
