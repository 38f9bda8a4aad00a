# The task supervisor: a POSIX sh script (run by /bin/sh = dash on Debian,
# ~1 ms and ~0.2 MB PSS instead of ~100 ms / ~9 MB for a `node` process) that
# the agent starts once per task, detached in its own session. It owns:
#
#  - starting the task in its own session, hence its own process group
#    (setsid(1) from util-linux: the task is not a group leader, so setsid
#    does not fork and $! is the task's pid = pgid); the agent signals -pgid,
#    the supervisor is in a different group, so a kill never hits it;
#  - the task's signal dispositions: an asynchronous list of a shell without
#    job control starts with SIGINT/SIGQUIT ignored, and this script ignores
#    SIGHUP/SIGPIPE; `env --default-signal` (coreutils >= 8.31) resets every
#    signal to its default before exec'ing the task;
#  - stdout/stderr: opened O_APPEND straight on `stdout` / `stderr` in the
#    sandbox (the cwd), so the task never blocks on a reader. The size cap is
#    enforced by the agent (log-cap.ts), not here;
#  - recording how the task ended in the exit file (tmp + fsync + rename +
#    fsync of the directory): {"code":N,"signal":null} or
#    {"code":null,"signal":"SIGXXX"}. `wait` gives 128+N for both a death by
#    signal N and an exit status 128+N; dash's `jobs -l` still lists the
#    reaped job as "Done(N)" for an exit and as the signal's description for
#    a signal death, which tells them apart. A shell that does not list it
#    (not dash) makes a status > 128 read as a signal;
#  - killing what is left of the task's group once its leader has exited.
#
# Args: $1 exit file, $2 setsid, $3 env, $4 sync, $5 mv (absolute paths: the
# task's env, inherited here, may set any PATH), then the task's file + argv.
# The first and only line on stdout is the task's pid; stdout is then closed.
# Writes the pid also to "<exit file>.pid" (for an agent that dies before
# checkpointing it). Nothing else is written anywhere but the sandbox.
trap '' HUP INT PIPE
_cyg_x=$1 _cyg_setsid=$2 _cyg_env=$3 _cyg_sync=$4 _cyg_mv=$5
shift 5
"$_cyg_setsid" "$_cyg_env" --default-signal -- "$@" </dev/null >>stdout 2>>stderr &
_cyg_p=$!
echo "$_cyg_p" >"$_cyg_x.pid"
echo "$_cyg_p"
exec >/dev/null
wait "$_cyg_p"
_cyg_c=$?
kill -KILL -"$_cyg_p" 2>/dev/null
_cyg_j=
jobs -l >"$_cyg_x.tmp" 2>/dev/null && read -r _cyg_j <"$_cyg_x.tmp"
case $_cyg_j in
  *Done*) _cyg_sig= ;;
  *) [ "$_cyg_c" -gt 128 ] && _cyg_sig=$(kill -l "$((_cyg_c - 128))" 2>/dev/null) || _cyg_sig= ;;
esac
if [ -n "$_cyg_sig" ]; then
  printf '{"code":null,"signal":"SIG%s"}\n' "$_cyg_sig" >"$_cyg_x.tmp"
else
  printf '{"code":%d,"signal":null}\n' "$_cyg_c" >"$_cyg_x.tmp"
fi
"$_cyg_sync" "$_cyg_x.tmp" 2>/dev/null
"$_cyg_mv" -f "$_cyg_x.tmp" "$_cyg_x"
"$_cyg_sync" "${_cyg_x%/*}" 2>/dev/null
exit 0
