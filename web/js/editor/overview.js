// The zoomed-out view of the editor in the classic canvas: below the frontend's low-quality zoom the
// DOM widget is hidden (hideOnZoom), so the widget's area is drawn on the node itself instead: the
// canvas at the layout's aspect with the numbered boxes, labels scaled to stay readable.

import { CANVAS_BG, drawScene } from "./canvas_draw.js";
import { t } from "./i18n.js";

const MAX_FONT_SCALE = 4;

/**
 * Draw `editor`'s boxes into the rectangle (x, y, w, h) of the node's local coordinates;
 * `scale` is the graph zoom (labels get 1/scale larger, so they read the same on screen).
 */
export function drawOverview(ctx, editor, { x, y, w, h, scale }) {
  const k = Math.min(MAX_FONT_SCALE, Math.max(1, 1 / (scale || 1)));
  const head = 16 * k;
  const { w: iw, h: ih } = editor.size;
  let cw = w, ch = (w * ih) / iw;
  if (ch > h - head) { ch = Math.max(1, h - head); cw = (ch * iw) / ih; }
  if (cw <= 0 || ch <= 0) return;
  ctx.save();
  ctx.fillStyle = "rgba(0,0,0,0.25)";
  ctx.fillRect(x, y, w, h);
  ctx.fillStyle = "#ddd";
  ctx.font = `${12 * k}px sans-serif`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillText(`${iw}×${ih} · ${t("editor.boxes", { count: editor.state.items.length })}`, x + 2, y + head / 2);
  ctx.translate(x + (w - cw) / 2, y + head);
  ctx.beginPath();
  ctx.rect(0, 0, cw, ch);
  ctx.clip();
  ctx.fillStyle = CANVAS_BG;
  ctx.fillRect(0, 0, cw, ch);
  drawScene(ctx, {
    cw, ch, items: editor.state.items, selected: -1, hover: -1, background: editor.showBackground ? editor.view.background : null,
    grid: null, handle: 0, focused: false, hint: "", fontScale: k,
  });
  ctx.restore();
}
