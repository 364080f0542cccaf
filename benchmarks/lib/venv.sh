# make_venv DIR: a Python venv at DIR unless it has one (source after common.sh). python3 -m venv
# needs Debian's python3-venv: installed with apt-get when run as root.
make_venv() {
    local dir=$1
    [[ -x $dir/bin/pip ]] && return 0
    rm -rf "$dir"
    if ! python3 -m venv "$dir" >/dev/null 2>&1; then
        rm -rf "$dir"
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        fi
        python3 -m venv "$dir" || { echo "cannot create a venv: apt-get install python3-venv" >&2; exit 1; }
    fi
}
