#!/usr/bin/env bash
# Writes a Janus configuration folder for the benchmark into $1 (never /etc/janus itself):
# loopback only, the VideoRoom plugin and the WebSockets transport on 127.0.0.1:$2 alone,
# event_loops = cores, ICE on interface $3 (which carries 127.0.0.1/32, see bench/run).
set -euo pipefail
dir="$1" port="$2" interface="$3"
mkdir -p "$dir"
cores="$(nproc)"
plugins=/usr/lib/x86_64-linux-gnu/janus
others() {  # every library in $1 but the one named $2, comma-separated
  find "$plugins/$1" -name 'libjanus_*.so' -printf '%f\n' | grep -v "$2" | paste -sd, -
}
cat > "$dir/janus.jcfg" <<CFG
general: {
  configs_folder = "$dir"
  plugins_folder = "$plugins/plugins"
  transports_folder = "$plugins/transports"
  events_folder = "$plugins/events"
  loggers_folder = "$plugins/loggers"
  debug_level = 3
  session_timeout = 120
  event_loops = $cores
}
certificates: {
}
media: {
  ipv6 = false
  rtp_port_range = "20000-40000"
}
nat: {
  full_trickle = false
  ice_enforce_list = "$interface"
}
plugins: {
  disable = "$(others plugins libjanus_videoroom.so)"
}
transports: {
  disable = "$(others transports libjanus_websockets.so)"
}
loggers: {
  disable = "$(others loggers none)"
}
events: {
  broadcast = false
}
CFG
cat > "$dir/janus.plugin.videoroom.jcfg" <<CFG
general: {
}
CFG
cat > "$dir/janus.transport.websockets.jcfg" <<CFG
general: {
  json = "compact"
  ws = true
  ws_port = $port
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
}
CFG
