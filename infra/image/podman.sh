# Sourced by the image scripts: podman with runc and cgroupfs (crun fails where cgroups are hybrid
# v1+v2 and CAP_SYS_RESOURCE is missing), open files capped at what this shell may raise them to.
# A containers.conf already named by CONTAINERS_CONF is kept.
if [ -z "${CONTAINERS_CONF:-}" ]; then
  podman_conf_dir=$(mktemp -d)
  nofile=$(ulimit -Hn)
  { [ "$nofile" = unlimited ] || [ "$nofile" -gt 20000 ]; } && nofile=20000
  cat >"$podman_conf_dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_CONF="$podman_conf_dir/containers.conf"
fi
