#!/usr/bin/env bash
# Start a throw-away sshd on loopback for the SSH launcher tests: key-only login as a
# throw-away user, and print the client configuration the tests use.
# Usage: eval "$(bash .ci/sshd.sh [PYTHON])"
#   (exports RLTUI_TEST_SSH_CONFIG and RLTUI_TEST_SSH_HOST)
# Needs root (it adds the user and starts sshd). The throw-away user runs the tests' own
# Python (PYTHON, default python3) as the remote side: every folder above that interpreter
# gets search permission for others (a Python under /root, as pyenv puts it, is otherwise out
# of the user's reach); nothing is made readable that was not.
set -euo pipefail
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    openssh-server openssh-client >&2
fi
dir=${RLTUI_SSH_DIR:-/tmp/rltui-ci-ssh}
port=${RLTUI_SSH_PORT:-2222}
user=rltui-ssh
host=rltui-ci
if [ -f "$dir/sshd.pid" ]; then  # an earlier run's server: gone before the port is reused
  old=$(cat "$dir/sshd.pid")
  kill "$old" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
fi
rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
# A new account is locked ("!"), and sshd refuses even keys to a locked account: "*" means
# no password can ever match, without locking it.
usermod -p "*" "$user"
home=$(getent passwd "$user" | cut -d: -f6)
ssh-keygen -q -t ed25519 -N "" -f "$dir/id_ed25519" -C "$user@$host"
ssh-keygen -q -t ed25519 -N "" -f "$dir/ssh_host_ed25519_key"
install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
install -m 600 -o "$user" -g "$user" "$dir/id_ed25519.pub" "$home/.ssh/authorized_keys"
cat > "$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
CONF
cat > "$dir/config" <<CONF
Host $host
  HostName 127.0.0.1
  Port $port
  User $user
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking accept-new
CONF
python=$(command -v "${1:-python3}")
real=$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')
folder=$(dirname "$real")
while [ "$folder" != / ]; do chmod o+x "$folder"; folder=$(dirname "$folder"); done
mkdir -p /run/sshd
/usr/sbin/sshd -f "$dir/sshd_config" >&2
ssh -F "$dir/config" -o BatchMode=yes "$host" true >&2
echo "export RLTUI_TEST_SSH_CONFIG=$dir/config RLTUI_TEST_SSH_HOST=$host"
