// Styles of the box editor, injected once into <head> when the first editor is built.
// Every selector is scoped under .deig-be / .deig-be-dialog, so other nodes are unaffected.

const STYLE_ID = "deig-box-editor-style";

const CSS = `
.deig-be { box-sizing: border-box; min-width: 300px; container: deig-be / inline-size; display: flex; flex-direction: column; gap: 4px; width: 100%; height: 100%;
  min-height: 0; padding: 2px; font: 12px/1.3 sans-serif; color: var(--input-text, #ddd); overflow: hidden; }
.deig-be *, .deig-be-dialog * { box-sizing: border-box; }
.deig-be [hidden], .deig-be-dialog [hidden] { display: none !important; }
.deig-be-toolbar { display: flex; flex-wrap: wrap; gap: 3px; align-items: center; flex: none; }
.deig-be-btn { font: inherit; padding: 2px 7px; border-radius: 4px; cursor: pointer; line-height: 1.4;
  background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd); border: 1px solid var(--border-color, #4e4e4e); }
.deig-be-btn:hover:not(:disabled) { filter: brightness(1.25); }
.deig-be-btn:disabled { opacity: 0.45; cursor: default; }
.deig-be-btn:focus-visible, .deig-be-icon:focus-visible, .deig-be-badge:focus-visible { outline: 2px solid #3fa7ff; outline-offset: 1px; }
.deig-be-primary { background: #2f6fd0; border-color: #2f6fd0; color: #fff; }
.deig-be-toggle { display: inline-flex; align-items: center; gap: 3px; cursor: pointer; user-select: none; padding: 0 3px; }
.deig-be-dim { opacity: 0.5; }
.deig-be-status { flex: none; opacity: 0.85; font-size: 11px; line-height: 1.35; overflow-wrap: anywhere; }
.deig-be-size { cursor: help; }
.deig-be-error { flex: none; padding: 5px 7px; border-radius: 4px; background: rgba(200, 40, 40, 0.25);
  border: 1px solid #d44; color: #ffd6d6; white-space: pre-wrap; word-break: break-word; }
.deig-be-error .deig-be-btn { margin: 4px 4px 0 0; }
.deig-be-notes { flex: none; display: flex; flex-direction: column; gap: 3px; }
.deig-be-notes:empty, .deig-be-notes:not(:has(> :not([hidden]))) { display: none; }
.deig-be-note { flex: none; padding: 2px 6px; border-radius: 4px; background: rgba(255, 190, 60, 0.15); color: #ffd78a;
  white-space: pre-line; overflow-wrap: anywhere; }
.deig-be-models { background: rgba(220, 60, 60, 0.18); color: #ffc4c4; }
.deig-be-models ul { margin: 2px 0 0; padding-left: 16px; }
.deig-be-stage { position: relative; flex: 1 1 auto; min-height: 140px; display: flex; align-items: flex-start;
  justify-content: center; overflow: hidden; }
.deig-be-auto .deig-be-stage { flex: none; width: 100%; min-height: 0; max-height: 75vh; }
.deig-be-auto { height: auto; }
.deig-be-canvas { display: block; border-radius: 3px; touch-action: none; outline: none;
  box-shadow: 0 0 0 1px var(--border-color, #4e4e4e); }
.deig-be-canvas:focus-visible { box-shadow: 0 0 0 2px #3fa7ff; }
.deig-be-detail { flex: none; display: flex; flex-direction: column; gap: 3px; padding: 4px;
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; }
.deig-be-detail-empty { opacity: 0.6; }
.deig-be-detail-head { display: flex; align-items: center; gap: 6px; }
.deig-be-warn { color: #ffb4b4; }
.deig-be-text, .deig-be-raw-text, .deig-be-io-text, .deig-be-io-out { width: 100%; resize: vertical; font: inherit;
  background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd); border: 1px solid var(--border-color, #4e4e4e);
  border-radius: 4px; padding: 3px 5px; }
.deig-be-raw-text, .deig-be-io-text, .deig-be-io-out { font-family: monospace; font-size: 11px; }
.deig-be-coords { display: grid; grid-template-columns: repeat(4, 1fr); gap: 4px; }
@container deig-be (max-width: 330px) { .deig-be-coords { grid-template-columns: repeat(2, 1fr); } }
.deig-be-coord { display: flex; align-items: center; gap: 2px; min-width: 0; }
.deig-be-coord .deig-be-num { flex: 1 1 auto; min-width: 0; width: 0; }
.deig-be-num[aria-invalid="true"] { border-color: #e44; box-shadow: 0 0 0 1px #e44; }
.deig-be-field-msg { color: #ff9a9a; font-size: 11px; }
.deig-be-tok { flex: none; font-size: 10px; opacity: 0.7; min-width: 18px; text-align: right; }
.deig-be-tok.deig-be-over { color: #ff8a8a; opacity: 1; font-weight: bold; }
.deig-be-detail-head .deig-be-tok { margin-left: auto; }
.deig-be-num { width: 62px; font: inherit; background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd);
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 1px 3px; }
.deig-be-unit { opacity: 0.7; font-size: 11px; }
.deig-be-listbox { flex: none; display: flex; flex-direction: column; gap: 1px; }
.deig-be-list { position: relative; list-style: none; margin: 0; padding: 0 2px 0 0; overflow-y: auto;
  max-height: calc(var(--deig-rows, 8) * 24px); display: flex; flex-direction: column; gap: 2px;
  scrollbar-width: auto; scrollbar-color: #9a9a9a #2a2a2a; }
.deig-be-list::-webkit-scrollbar { width: 10px; }
.deig-be-list::-webkit-scrollbar-thumb { background: #9a9a9a; border-radius: 5px; }
.deig-be-list::-webkit-scrollbar-track { background: #2a2a2a; }
.deig-be-more { font-size: 11px; opacity: 0.8; text-align: right; }
.deig-be-rows { display: flex; gap: 2px; min-height: 0; }
.deig-be-rows > .deig-be-list { flex: 1 1 auto; min-width: 0; }
.deig-be-track { flex: none; position: relative; width: 8px; border-radius: 4px; background: #2c2c30; cursor: pointer; }
.deig-be-thumb { position: absolute; left: 0; right: 0; border-radius: 4px; background: #a0a0a8; }
.deig-be-row { flex: none; display: flex; align-items: center; gap: 3px; padding: 1px 2px; border-radius: 4px; }
.deig-be-row.deig-be-selected { background: rgba(63, 167, 255, 0.18); }
.deig-be-row.deig-be-missing .deig-be-row-text { border-color: #d44; }
.deig-be-badge { flex: none; min-width: 20px; height: 18px; padding: 0 4px; border-radius: 4px; border: none;
  font: bold 11px sans-serif; display: inline-flex; align-items: center; justify-content: center; cursor: pointer; }
.deig-be-row-text { flex: 1 1 auto; min-width: 40px; font: inherit; background: var(--comfy-input-bg, #222);
  color: var(--input-text, #ddd); border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 1px 4px; }
.deig-be-icon { flex: none; width: 20px; height: 20px; padding: 0; font-size: 10px; cursor: pointer; border-radius: 4px;
  background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd); border: 1px solid var(--border-color, #4e4e4e); }
.deig-be-icon:disabled { opacity: 0.35; cursor: default; }
.deig-be-danger:hover:not(:disabled) { background: #8a2a2a; }
.deig-be-raw { flex: none; display: flex; flex-direction: column; gap: 2px; }
.deig-be-dialog { max-width: min(640px, 92vw); width: 560px; padding: 10px 12px; border-radius: 8px;
  border: 1px solid var(--border-color, #4e4e4e); background: var(--comfy-menu-bg, #2b2b2b); color: var(--fg-color, #ddd);
  font: 13px/1.4 sans-serif; }
.deig-be-dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
.deig-be-dialog-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 6px; }
.deig-be-dialog-sec { display: flex; flex-direction: column; gap: 5px; margin-bottom: 10px; }
.deig-be-dialog-sec h4 { margin: 4px 0 0; font-size: 13px; }
.deig-be-hint { margin: 0; opacity: 0.75; font-size: 12px; }
.deig-be-bench, .deig-be-mode { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.deig-be-bench-info { opacity: 0.85; font-size: 12px; }
.deig-be-io-msg { min-height: 1.2em; font-size: 12px; opacity: 0.85; }
.deig-be-error-text { color: #ff8a8a; opacity: 1; }
.deig-be-dialog-sec > .deig-be-btn { align-self: flex-start; }
`;

/** Add the stylesheet once per document. */
export function ensureStyles() {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  document.head.append(style);
}
