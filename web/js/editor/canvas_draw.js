// Drawing of the editor canvas: background, latent grid, numbered boxes, handles.

import { instanceColor, instanceFill, instanceInk } from "./colors.js";
import { t } from "./i18n.js";
import { clamp01, pyStrip } from "./layout_json.js";

export const CANVAS_BG = "#1b1b1f";

/**
 * Canvas labels that tell instances apart: with three or more boxes, words that every description
 * shares ("a donut with ..." in six donut descriptions) are left out of each label, so what differs
 * comes first. The full description is the canvas tooltip and the list row.
 */
export function distinctLabels(items) {
  const words = items.map((it) => pyStrip(it.text).split(/\s+/).filter(Boolean));
  if (words.length < 3) return words.map((w) => w.join(" "));   // two descriptions rarely read alike
  const key = (w) => w.toLowerCase().replace(/[.,;:!?]+$/, "");
  const shared = new Set(words[0].map(key).filter((k) => words.every((ws) => ws.some((w) => key(w) === k))));
  return words.map((ws) => {
    const rest = ws.filter((w) => !shared.has(key(w)));
    return rest.length ? rest.join(" ") : ws.join(" ");
  });
}

/**
 * Draw one frame. Units are CSS pixels of the canvas (the caller set the transform).
 * scene: {cw, ch, items, selected, hover, background (HTMLImageElement|null),
 *         grid ({w, h, step}|null), handle (handle size in canvas units), focused, hint,
 *         fontScale (labels drawn this many times larger: the zoomed-out overview)}
 */
export function drawScene(ctx, scene) {
  const { cw, ch, items, selected } = scene;
  scene = { ...scene, labels: distinctLabels(items), fontScale: scene.fontScale ?? 1 };
  ctx.clearRect(0, 0, cw, ch);
  ctx.fillStyle = CANVAS_BG;
  ctx.fillRect(0, 0, cw, ch);
  const bg = scene.background;
  if (bg && bg.complete && bg.naturalWidth) {
    // Stretched to the canvas: normalised coordinates map onto the whole image either way.
    ctx.globalAlpha = 0.85;
    ctx.drawImage(bg, 0, 0, cw, ch);
    ctx.globalAlpha = 1;
  }
  if (scene.grid) drawGrid(ctx, cw, ch, scene.grid);
  items.forEach((it, i) => { if (i !== selected) drawBox(ctx, scene, it, i, false); });
  if (items[selected]) drawBox(ctx, scene, items[selected], selected, true);
  if (scene.hint) {
    ctx.fillStyle = "rgba(255,255,255,0.55)";
    ctx.font = "13px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(scene.hint, cw / 2, ch / 2);
    ctx.textAlign = "start";
  }
}

function drawGrid(ctx, cw, ch, { w, h, step: base }) {
  let step = base;
  while ((step / w) * cw < 6) step *= 2;   // keep lines at least 6 CSS px apart
  ctx.strokeStyle = "rgba(255,255,255,0.08)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = step; x < w; x += step) {
    const px = Math.round((x / w) * cw) + 0.5;
    ctx.moveTo(px, 0);
    ctx.lineTo(px, ch);
  }
  for (let y = step; y < h; y += step) {
    const py = Math.round((y / h) * ch) + 0.5;
    ctx.moveTo(0, py);
    ctx.lineTo(cw, py);
  }
  ctx.stroke();
}

function drawBox(ctx, scene, it, i, selected) {
  const { cw, ch } = scene;
  const [x1, y1, x2, y2] = it.box.map(clamp01);
  const X = x1 * cw, Y = y1 * ch, W = (x2 - x1) * cw, H = (y2 - y1) * ch;
  const color = instanceColor(i);
  const noText = !pyStrip(it.text);
  ctx.fillStyle = instanceFill(i, selected ? 0.28 : scene.hover === i ? 0.22 : 0.14);
  ctx.fillRect(X, Y, W, H);
  ctx.setLineDash(noText ? [6, 4] : []);    // dashed: still needs a description
  ctx.lineWidth = selected ? 3 : 2;
  ctx.strokeStyle = color;
  ctx.strokeRect(X + 0.5, Y + 0.5, Math.max(W - 1, 0), Math.max(H - 1, 0));
  ctx.setLineDash([]);

  // Number badge, then as much of the (distinguishing part of the) description as fits.
  const k = scene.fontScale, lh = 16 * k;
  ctx.font = `bold ${12 * k}px sans-serif`;
  ctx.textBaseline = "middle";
  const label = String(i + 1);
  const lw = Math.max(lh, ctx.measureText(label).width + 8 * k);
  ctx.fillStyle = color;
  ctx.fillRect(X, Y, lw, lh);
  ctx.fillStyle = instanceInk(i);
  ctx.fillText(label, X + (lw - ctx.measureText(label).width) / 2, Y + lh / 2 + 0.5);
  const room = W - lw - 6 * k;
  if (room > 24 * k) {
    ctx.font = `${12 * k}px sans-serif`;
    let shown = noText ? t("editor.noDescription") : scene.labels[i];
    while (shown.length > 1 && ctx.measureText(shown).width > room) shown = shown.slice(0, -2) + "…";
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    ctx.fillRect(X + lw, Y, ctx.measureText(shown).width + 6 * k, lh);
    ctx.fillStyle = noText ? "#ffb4b4" : "#fff";
    ctx.fillText(shown, X + lw + 3 * k, Y + lh / 2 + 0.5);
  }

  if (selected) {
    const xm = X + W / 2, ym = Y + H / 2, s = scene.handle;
    const pts = [[X, Y], [xm, Y], [X + W, Y], [X + W, ym], [X + W, Y + H], [xm, Y + H], [X, Y + H], [X, ym]];
    ctx.lineWidth = 1.5;
    for (const [hx, hy] of pts) {
      ctx.fillStyle = "#fff";
      ctx.fillRect(hx - s / 2, hy - s / 2, s, s);
      ctx.strokeStyle = color;
      ctx.strokeRect(hx - s / 2, hy - s / 2, s, s);
    }
    if (scene.focused) {   // keyboard focus marker around the box the arrow keys act on
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1;
      ctx.strokeRect(X - 3.5, Y - 3.5, W + 7, H + 7);
      ctx.setLineDash([]);
    }
  }
}
