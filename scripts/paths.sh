# Source me: sets REPO_ROOT, HOST_DIR, VENV, VPY, PKGS_DIR, PACK_LINK, HOST_MANAGED, FRONTENDS_DIR, NEW_FRONTEND,
# FLOOR_VENV, FLOOR_VPY, FLOOR_TRANSFORMERS, FLOOR_TOKENIZERS from devkit/paths.py,
# the one place that knows the paths (it honours COMFYUI_PATH).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_deig_host() { python3 "$REPO_ROOT/devkit/paths.py" "$1"; }
HOST_DIR="$(_deig_host host)"
VENV="$(_deig_host venv)"
VPY="$(_deig_host python)"
PKGS_DIR="$(_deig_host pkgs)"
PACK_LINK="$(_deig_host pack-link)"
HOST_MANAGED="$(_deig_host managed)"
FRONTENDS_DIR="$(_deig_host frontends)"
NEW_FRONTEND="$(_deig_host new-frontend)"
FLOOR_VENV="$(_deig_host floor-venv)"
FLOOR_VPY="$(_deig_host floor-python)"
FLOOR_TRANSFORMERS="$(_deig_host floor-transformers)"
FLOOR_TOKENIZERS="$(_deig_host floor-tokenizers)"
export REPO_ROOT HOST_DIR VENV VPY PKGS_DIR PACK_LINK HOST_MANAGED FRONTENDS_DIR NEW_FRONTEND FLOOR_VENV FLOOR_VPY \
  FLOOR_TRANSFORMERS FLOOR_TOKENIZERS
