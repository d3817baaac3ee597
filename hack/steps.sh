# hack/steps.sh, sourced: step <name> <command...> runs the command and
# appends "<name> <seconds> s, CPU <busy>% of <cores> cores" to $STEPS_FILE
# (and stderr), so that a CI log says where its time went and how much of the
# machine each step kept busy (/proc/stat: time neither idle nor waiting on
# I/O, over the step). The command's status is the step's.
cpu_ticks() { # prints "<busy> <total>" jiffies since boot, all cores
  local _ user nice system idle iowait irq softirq steal
  read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
step() {
  local name=$1 start=$SECONDS rc=0 b0 t0 b1 t1 busy note=""
  shift
  read -r b0 t0 < <(cpu_ticks)
  echo "step $name: $*" >&2
  "$@" || rc=$?
  read -r b1 t1 < <(cpu_ticks)
  busy=$(((b1 - b0) * 100 / ((t1 - t0) > 0 ? (t1 - t0) : 1)))
  ((rc == 0)) || note=", failed ($rc)"
  echo "$name $((SECONDS - start)) s, CPU $busy% of $(nproc) cores$note" |
    tee -a "${STEPS_FILE:-/dev/null}" >&2
  return "$rc"
}
